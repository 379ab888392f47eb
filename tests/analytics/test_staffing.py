"""Staffing: Erlang C and A, the intraday profile, crews, the weekly plan page and command.

The plan tests stand in for the forecast (``staffing._forecast``) with fixed
figures so every number on the page can be worked out by hand; one test at the
end runs the real forecaster over a small history.
"""

import io
import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from voltdesk.analytics import staffing
from voltdesk.analytics.forecasting import ForecastRow
from voltdesk.core import roles
from voltdesk.core.models import Area, Region
from voltdesk.workorders.models import WorkOrder

JERUSALEM = ZoneInfo("Asia/Jerusalem")


@pytest.fixture(autouse=True)
def fresh_cache():
    # Plans keep their forecast in the cache; every test starts without one.
    cache.clear()
    yield
    cache.clear()


URL = "desk:analytics:staffing"
CSV_URL = "desk:analytics:staffing_csv"

# --- Erlang C ---------------------------------------------------------------------------

# The classic example: 100 calls in 30 minutes, 180 s average handling time.
# Traffic A = 100 × 180 / 1800 = 10 Erlangs. Erlang B by its recursion
# B(n) = A·B(n-1) / (n + A·B(n-1)) gives B(13) = 0.08434 and B(14) = 0.05682;
# Erlang C = n·B / (n - A·(1 - B)):
#   n = 13: 13 × 0.08434 / (13 - 10 × 0.91566) = 1.09642 / 3.8434 = 0.2853
#   n = 14: 14 × 0.05682 / (14 - 10 × 0.94318) = 0.79548 / 4.5682 = 0.1741
# Service level within 20 s = 1 - C·exp(-(n - A)·20/180):
#   n = 13: 1 - 0.2853 × exp(-3/9) = 1 - 0.2853 × 0.71653 = 0.7956  (below 80 %)
#   n = 14: 1 - 0.1741 × exp(-4/9) = 1 - 0.1741 × 0.64118 = 0.8884  (80/20 reached)
# ASA = C·AHT / (n - A): n = 14: 0.1741 × 180 / 4 = 7.84 s; n = 15: 0.1020 × 180 / 5 = 3.67 s.
# These are the published table figures for this example (14 agents, 88.8 %, ~8 s).


def test_erlang_c_classic_example():
    assert staffing.erlang_b(14, 10) == pytest.approx(0.05682, abs=5e-6)
    assert staffing.erlang_c(13, 10) == pytest.approx(0.2853, abs=5e-5)
    assert staffing.erlang_c(14, 10) == pytest.approx(0.1741, abs=5e-5)
    assert staffing.erlang_c_service_level(13, 10, 180, 20) == pytest.approx(0.7956, abs=5e-5)
    assert staffing.erlang_c_service_level(14, 10, 180, 20) == pytest.approx(0.8884, abs=5e-5)
    assert staffing.erlang_c_asa(14, 10, 180) == pytest.approx(7.84, abs=5e-3)

    needed = staffing.agents_needed(100, staffing.Targets(180, 0.8, 20))
    assert needed.agents == 14
    assert needed.service_level == pytest.approx(0.8884, abs=5e-5)
    assert needed.asa_seconds == pytest.approx(7.84, abs=5e-3)


def test_an_asa_target_adds_agents():
    # 14 agents answer in 7.84 s on average; a 5 s target needs 15 (3.67 s).
    needed = staffing.agents_needed(100, staffing.Targets(180, 0.8, 20, asa_seconds=5))
    assert needed.agents == 15
    assert needed.asa_seconds == pytest.approx(3.67, abs=5e-3)


def test_erlang_c_stays_finite_for_large_centres():
    # 950 Erlangs: factorials of 1000 would overflow a float; the recursion does not.
    b = staffing.erlang_b(1000, 950)
    assert 0 < b < 1
    assert 0 < staffing.erlang_c(1000, 950) < 1
    big = staffing.agents_needed(5700, staffing.Targets(300, 0.8, 20))  # 950 Erlangs
    assert 951 <= big.agents <= 1000
    assert big.service_level >= 0.8
    # Not enough agents: everyone waits, nobody is answered in time.
    assert staffing.erlang_c(10, 10) == 1.0
    assert staffing.erlang_c_service_level(9, 10, 180, 20) == 0.0
    assert staffing.erlang_c_asa(10, 10, 180) == math.inf


def test_no_calls_need_no_agents():
    assert staffing.agents_needed(0, staffing.Targets(180, 0.8, 20)).agents == 0


# --- Erlang A ---------------------------------------------------------------------------


def test_erlang_a_by_hand_single_agent():
    # One agent, λ = μ = θ = 1 a second. π(1+j)/π(j) = λ/(μ + jθ) = 1/(1+j), and
    # π(1)/π(0) = λ/μ = 1, so π(1+j) = π(0)/(j+1)!. The sum is π(0)·(1 + (e - 1)) = 1,
    # hence π(0) = 1/e: answered at once 1/e = 0.3679, waiting 1 - 1/e = 0.6321.
    # Mean queue = π(0)·Σ j/(j+1)! = π(0)·(e - (e - 1)) = 1/e; abandonment = θ·Lq/λ = 1/e,
    # mean wait = Lq/λ = 0.3679 s. With no time allowed only those answered at once
    # count; with all the time in the world, everyone who does not hang up: 1 - 1/e.
    e = math.e
    at_once = staffing.erlang_a(1, 1.0, 1.0, 1.0, 0.0)
    assert at_once.service_level == pytest.approx(1 / e, abs=1e-9)
    assert at_once.waiting_share == pytest.approx(1 - 1 / e, abs=1e-9)
    assert at_once.abandon_share == pytest.approx(1 / e, abs=1e-9)
    assert at_once.asa_seconds == pytest.approx(1 / e, abs=1e-9)
    eventually = staffing.erlang_a(1, 1.0, 1.0, 1.0, 1000.0)
    assert eventually.service_level == pytest.approx(1 - 1 / e, abs=1e-9)


def test_erlang_a_with_endless_patience_is_erlang_c():
    # 100 calls / 1800 s, 14 agents, callers who (almost) never hang up.
    a = staffing.erlang_a(14, 100 / 1800, 180, 1e7, 20)
    assert a.service_level == pytest.approx(0.8884, abs=1e-4)
    assert a.waiting_share == pytest.approx(0.1741, abs=1e-4)
    assert a.asa_seconds == pytest.approx(7.84, abs=1e-2)


def test_erlang_a_with_patience_needs_fewer_agents():
    erlang_c = staffing.agents_needed(100, staffing.Targets(180, 0.8, 20))
    erlang_a = staffing.agents_needed(100, staffing.Targets(180, 0.8, 20, patience_seconds=120))
    assert erlang_a.agents < erlang_c.agents == 14
    assert erlang_a.service_level >= 0.8
    assert erlang_a.abandon_share > 0
    # One agent fewer would miss the target: the search found the fewest.
    fewer = staffing.erlang_a(erlang_a.agents - 1, 100 / 1800, 180, 120, 20)
    assert fewer.service_level < 0.8


# --- crews ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "orders, crews",
    [(0, 0), (-1.5, 0), (0.2, 1), (7.9, 1), (8, 1), (16.0000001, 2), (16.01, 3), (17, 3)],
)
def test_crews_round_up_to_whole_crews(orders, crews):
    assert staffing.crews_needed(orders, 8) == crews


# --- the intraday profile ---------------------------------------------------------------


def _order(at: datetime, order_type="consultation", area=None):
    return WorkOrder.objects.create(order_type=order_type, created_at=at, area=area)


def test_profile_counts_half_hours_in_the_utility_zone(utility):
    monday = date(2026, 11, 30)  # Jerusalem is UTC+2 in winter
    _order(datetime(2026, 11, 30, 9, 10, tzinfo=JERUSALEM))
    _order(datetime(2026, 11, 30, 9, 29, tzinfo=JERUSALEM))
    _order(datetime(2026, 11, 30, 9, 30, tzinfo=JERUSALEM))
    _order(datetime(2026, 11, 30, 23, 50, tzinfo=JERUSALEM))
    # 23:45 UTC on Sunday is 01:45 on Monday in Jerusalem.
    _order(datetime(2026, 11, 29, 23, 45, tzinfo=ZoneInfo("UTC")))
    profile = staffing.intraday_profile(8, until=monday)
    shares = profile.shares[1]  # ISO weekday 1 = Monday
    # Five Monday orders: 09:00 twice, 09:30, 23:30, 01:30.
    assert shares[18] == pytest.approx(2 / 5)
    assert shares[19] == pytest.approx(1 / 5)
    assert shares[47] == pytest.approx(1 / 5)
    assert shares[3] == pytest.approx(1 / 5)
    assert sum(shares) == pytest.approx(1)
    assert profile.orders == 5 and profile.from_history == {1}
    # Sunday had no order in Jerusalem time: the default 24-hour shape.
    assert profile.shares[7] == staffing.default_profile()


def test_profile_without_history_is_the_default_shape(utility):
    profile = staffing.intraday_profile(until=date(2026, 11, 30))
    assert profile.orders == 0
    shares = profile.shares[3]
    assert sum(shares) == pytest.approx(1)
    # Weights 4 by day (08:00-20:00, 24 half hours) and 1 by night: 4/120 and 1/120.
    assert shares[20] == pytest.approx(4 / 120)
    assert shares[2] == pytest.approx(1 / 120)


def test_profile_is_one_query(utility, django_assert_num_queries):
    for day in range(1, 8):
        _order(datetime(2026, 11, day, 10, 5, tzinfo=JERUSALEM))
    with django_assert_num_queries(2):  # the utility's zone, then the GROUP BY
        staffing.intraday_profile(until=date(2026, 11, 30))


# --- the weekly plan --------------------------------------------------------------------

WEEK = date(2026, 11, 1)  # a Sunday: weeks start on Sunday in the il profile
UNTIL = date(2026, 10, 31)


@pytest.fixture
def history(utility):
    """One order at 10:05 local every day of the 8 weeks before WEEK; plan figures set."""
    for back in range(1, 57):
        _order(
            datetime.combine(WEEK - timedelta(days=back), datetime.min.time(), JERUSALEM).replace(
                hour=10, minute=5
            )
        )
    row = staffing.assumptions()
    row.handling_seconds = 180
    row.calls_per_order = Decimal("1.00")
    row.shrinkage = Decimal("0.300")
    row.orders_per_crew_day = Decimal("8.0")
    row.save()
    return row


@pytest.fixture
def fixed_forecast(monkeypatch):
    """100 work orders a day; faults: North 17 (upper bound 25), South 8 (8.5)."""
    calls = []

    def forecast(horizon, *, by=None, until=None, order_type=None):
        calls.append({"horizon": horizon, "by": by, "until": until, "order_type": order_type})
        rows = []
        for k in range(1, horizon + 1):
            day = until + timedelta(days=k)
            if by is None:
                rows.append(ForecastRow(day, "all", 100.0, 80.0, 120.0))
            else:
                rows.append(ForecastRow(day, "North", 17.0, 12.0, 25.0))
                rows.append(ForecastRow(day, "South", 8.0, 6.0, 8.5))
        return rows

    monkeypatch.setattr(staffing, "_forecast", forecast)
    return calls


def test_plan_of_a_week_by_hand(history, fixed_forecast):
    plan = staffing.plan_week(date(2026, 11, 4))  # any day of the week picks the week
    assert plan.start == WEEK and plan.history_until == UNTIL
    # The forecast sees the history up to the day before the week, and reaches
    # the end of the 90-day outlook: 1 Nov + 89 days is 29 Jan, 90 days after 31 Oct.
    assert fixed_forecast[0] == {"horizon": 90, "by": None, "until": UNTIL, "order_type": None}
    assert fixed_forecast[1]["by"] == "region" and fixed_forecast[1]["order_type"] == "fault"
    assert len(plan.days) == 7 and len(plan.outlook) == 90
    sunday = plan.days[0]
    # Every order of the history came at 10:05: the 10:00 half hour holds all
    # 100 × 1.00 calls, the classic 10-Erlang example: 14 agents, and
    # 14 / (1 - 0.30) = 20 scheduled. The other half hours have no calls.
    ten = sunday.slots[20]
    assert ten.start.strftime("%H:%M") == "10:00"
    assert ten.calls == pytest.approx(100)
    assert (ten.agents, ten.scheduled) == (14, 20)
    assert sum(s.agents for s in sunday.slots) == 14
    assert sunday.agent_hours == 7.0 and sunday.scheduled_hours == 10.0
    assert plan.service_level == pytest.approx(0.8884, abs=5e-5)
    assert plan.asa_seconds == pytest.approx(7.84, abs=5e-3)
    # Crews: North 17/8 = 2.1 -> 3 (peak 25/8 = 3.1 -> 4); South 8/8 = 1 (peak 8.5/8 -> 2).
    crews = {(c.region, c.day): (c.crews, c.peak_crews) for c in plan.crews}
    assert crews[("North", WEEK)] == (3, 4)
    assert crews[("South", WEEK)] == (1, 2)
    assert plan.outlook[0].crews == 4 and plan.outlook[0].peak_crews == 6
    assert plan.outlook[0].scheduled_hours == 10.0


def test_default_week_is_next_week(history, fixed_forecast):
    today = staffing.timezone_today()
    start = staffing.default_week()
    assert start.weekday() == 6  # Sunday (il)
    assert 1 <= (start - today).days <= 7


def test_plan_refuses_weeks_outside_the_history(history, fixed_forecast):
    with pytest.raises(staffing.StaffingError, match="before the work-order history"):
        staffing.plan_week(date(2026, 8, 1))
    with pytest.raises(staffing.StaffingError, match="more than 270 days"):
        staffing.plan_week(date(2027, 9, 1))


def test_plan_without_any_history(utility):
    with pytest.raises(staffing.NoHistory):
        staffing.plan_week(WEEK)


# --- the page, the export and the command -----------------------------------------------


def test_supervisor_sees_the_plan(client, make_user, history, fixed_forecast):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL), {"week": "2026-11-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="service-level">88.8 %' in html
    assert 'data-figure="asa">7.8 s' in html
    assert 'data-figure="agent-hours">49.0' in html  # 7 days × 7.0
    assert 'id="staffing-heat"' in html and 'id="staffing-crews"' in html
    assert ">14</td>" in html  # the 10:00 cells
    assert "North" in html and "3 <span" in html
    assert "vendor/echarts/echarts.min.js" in html
    chart = response.context["chart"]
    assert len(chart["labels"]) == 90 and chart["hours"][0] == 10.0 and chart["crews"][0] == 4


def test_asa_target_on_the_page(client, make_user, history, fixed_forecast):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL), {"week": "2026-11-01", "asa": "5"})
    assert response.status_code == 200
    assert response.context["plan"].days[0].slots[20].agents == 15


@pytest.mark.parametrize(
    "query, field, words",
    [
        ({"week": "2026-13-01"}, "week", "YYYY-MM-DD"),
        ({"week": "next"}, "week", "YYYY-MM-DD"),
        ({"week": "2026-08-02"}, "week", "before the work-order history"),
        ({"week": "2026-11-01", "asa": "soon"}, "asa", "seconds"),
        ({"week": "2026-11-01", "asa": "0"}, "asa", "seconds"),
    ],
)
def test_bad_parameters_answer_400(client, make_user, history, fixed_forecast, query, field, words):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL), query)
    assert response.status_code == 400
    assert response.context["error"].field == field
    assert words in response.content.decode()
    csv_response = client.get(reverse(CSV_URL), query)
    assert csv_response.status_code == 400
    assert csv_response.content.decode().startswith(f"{field}: ")


def test_page_without_history_says_so(client, make_user, utility):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL))
    assert response.status_code == 200
    assert "no work-order history" in response.content.decode()
    export = client.get(reverse(CSV_URL))
    assert export.status_code == 200
    assert export.content.decode("utf-8-sig").strip() == ",".join(staffing.CSV_HEADER)


@pytest.mark.parametrize("role", [roles.AGENT, roles.DISPATCHER, roles.ACCOUNT_MANAGER])
def test_other_desk_roles_are_refused(client, make_user, history, fixed_forecast, role):
    client.force_login(make_user(role))
    assert client.get(reverse(URL), {"week": "2026-11-01"}).status_code == 403
    assert client.get(reverse(CSV_URL), {"week": "2026-11-01"}).status_code == 403


def test_customers_and_anonymous_are_refused(
    client, make_user, make_customer, history, fixed_forecast
):
    for customer in (make_customer("Acme"), make_customer("Blue Bakery")):
        client.force_login(make_user(roles.CUSTOMER, customer=customer))
        assert client.get(reverse(URL)).status_code == 403
        assert client.get(reverse(CSV_URL)).status_code == 403
    client.logout()
    response = client.get(reverse(URL))
    assert response.status_code == 302 and "login" in response["Location"]


def test_csv_export_of_the_week(client, make_user, history, fixed_forecast):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(CSV_URL), {"week": "2026-11-03"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "staffing-agents-2026-11-01.csv" in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(staffing.CSV_HEADER)
    assert len(lines) == 1 + 7 * 48
    assert lines[21] == "2026-11-01,10:00,100.00,14,20,0.888,7.8,0.000"
    crews = client.get(reverse(CSV_URL), {"week": "2026-11-01", "part": "crews"})
    rows = crews.content.decode("utf-8-sig").splitlines()
    assert rows[0] == ",".join(staffing.CREW_CSV_HEADER)
    assert rows[1:3] == ["2026-11-01,North,17.00,25.00,3,4", "2026-11-01,South,8.00,8.50,1,2"]
    assert client.get(reverse(CSV_URL), {"part": "both"}).status_code == 400


def test_command_prints_the_plan(history, fixed_forecast):
    out = io.StringIO()
    call_command("staffing_plan", "--week", "2026-11-01", "--format", "csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(staffing.CSV_HEADER) and len(lines) == 1 + 7 * 48
    assert "2026-11-01,10:00,100.00,14,20,0.888,7.8,0.000" in lines
    out = io.StringIO()
    call_command("staffing_plan", "--week", "2026-11-01", "--format", "csv", "--crews", stdout=out)
    assert "2026-11-01,North,17.00,25.00,3,4" in out.getvalue().splitlines()
    out = io.StringIO()
    call_command("staffing_plan", "--week", "2026-11-01", stdout=out)
    assert "2026-11-01" in out.getvalue() and "North" in out.getvalue()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--week", "soon"], "--week"),
        (["--week", "2026-08-01"], "--week"),
        (["--asa", "0"], "--asa"),
    ],
)
def test_command_refuses_bad_options(history, fixed_forecast, args, words):
    with pytest.raises(CommandError, match=words):
        call_command("staffing_plan", *args, stdout=io.StringIO())


def test_erlang_a_plan_shows_abandonment(client, make_user, history, fixed_forecast):
    history.patience_seconds = 120
    history.save()
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL), {"week": "2026-11-01"})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan.days[0].slots[20].agents < 14
    assert 'data-figure="abandoned"' in response.content.decode()


# --- with the real forecaster -----------------------------------------------------------


def test_plan_from_the_real_forecast(client, make_user, utility, monkeypatch):
    north = Region.objects.create(name="North")
    area = Area.objects.create(region=north, name="North city", kind="urban")
    start = date(2026, 8, 2)
    for back in range(1, 15 * 7):
        day = start - timedelta(days=back)
        for hour, kind in ((9, "consultation"), (11, "fault"), (15, "business")):
            _order(datetime(day.year, day.month, day.day, hour, 10, tzinfo=JERUSALEM), kind, area)
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL), {"week": start.isoformat()})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan.history_until == start - timedelta(days=1)
    assert len(plan.days) == 7 and len(plan.outlook) == 90
    # Three orders a day, at 09, 11 and 15 o'clock: those half hours get agents.
    assert all(d.slots[18].agents >= 1 and d.slots[22].agents >= 1 for d in plan.days)
    assert all(d.slots[2].agents == 0 for d in plan.days)
    # About one fault a day in North: one crew.
    assert {c.region for c in plan.crews} == {"North"}
    assert all(c.crews == 1 for c in plan.crews)

    # The same history again: the forecast comes from the cache, not a new fit.
    def refit(*args, **kwargs):
        raise AssertionError("forecast fitted again")

    monkeypatch.setattr(staffing, "forecast_workorders", refit)
    again = client.get(reverse(URL), {"week": start.isoformat()})
    assert again.context["plan"].days[0].slots[18].agents == plan.days[0].slots[18].agents
    # A new order in the history makes a new forecast.
    _order(datetime(2026, 7, 1, 9, 0, tzinfo=JERUSALEM))
    with pytest.raises(AssertionError, match="fitted again"):
        staffing.plan_week(start)


# --- the forecasts prepared in the background ---------------------------------------------


@pytest.fixture
def worker_queue(monkeypatch):
    """A Celery broker with a worker that has not run yet: queued weeks are only recorded."""
    from voltdesk.analytics import tasks

    queued = []
    monkeypatch.setattr(tasks.prepare_staffing_forecasts, "delay", queued.append)
    return queued


def test_a_cold_page_queues_the_forecast_once_and_shows_its_progress(
    client, make_user, history, fixed_forecast, worker_queue
):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(reverse(URL), {"week": "2026-11-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="staffing-preparing"' in html and 'data-state="queued"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "plan" not in response.context  # nothing fitted in the request
    assert fixed_forecast == []
    # Asking again while the job waits does not queue it a second time.
    client.get(reverse(URL), {"week": "2026-11-01"})
    assert worker_queue == ["2026-11-01"]

    # The worker runs: step by step, then the page shows the plan.
    span = staffing.plan_span(date(2026, 11, 1))
    assert staffing.prepare_forecasts(span).ready
    assert len(fixed_forecast) == 2  # all orders, then faults by region
    polled = client.get(reverse(URL), {"week": "2026-11-01"}, headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"  # the progress panel reloads the page
    page = client.get(reverse(URL), {"week": "2026-11-01"})
    assert 'data-figure="service-level">88.8 %' in page.content.decode()
    assert worker_queue == ["2026-11-01"]


def test_the_progress_counts_the_forecasts_done(history, worker_queue, monkeypatch):
    span = staffing.plan_span(date(2026, 11, 1))
    assert staffing.preparation(span).state == "missing"
    assert staffing.request_forecasts(span).state == "queued"
    seen = []

    def forecast(horizon, *, until, by=None, order_type=None):
        seen.append(staffing.preparation(span))
        return [ForecastRow(until + timedelta(days=1), "all", 1.0, 1.0, 1.0)]

    monkeypatch.setattr(staffing, "_forecast", forecast)
    staffing.prepare_forecasts(span)
    assert [(s.state, s.step, s.percent) for s in seen] == [("running", 0, 0), ("running", 1, 50)]
    assert staffing.preparation(span).ready


def test_a_background_task_is_idempotent_and_ignores_weeks_it_cannot_plan(history, monkeypatch):
    from voltdesk.analytics import tasks

    fitted = []
    monkeypatch.setattr(
        staffing, "forecast_workorders", lambda horizon, **kw: fitted.append(kw) or []
    )
    assert tasks.prepare_staffing_forecasts("2026-11-01") == {
        "week": "2026-11-01",
        "state": "ready",
    }
    tasks.prepare_staffing_forecasts("2026-11-03")  # the same week again: from the cache
    assert len(fitted) == 2
    assert tasks.prepare_staffing_forecasts("2020-01-01") is None  # before the history


def test_the_preparing_page_is_for_supervisors_only(
    client, make_user, make_customer, history, fixed_forecast, worker_queue
):
    client.force_login(make_user(roles.CUSTOMER, customer=make_customer("Acme")))
    assert client.get(reverse(URL), {"week": "2026-11-01"}).status_code == 403
    client.force_login(make_user(roles.AGENT))
    assert client.get(reverse(URL), {"week": "2026-11-01"}).status_code == 403
    assert worker_queue == []  # a refused request queued nothing
