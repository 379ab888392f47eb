"""Proposed events: a temperature or load forecast crosses the utility's margin.

The il utility: hot day from 35 °C, cold day up to 3 °C, reserve margin 5 %,
proposals for the next 3 days. The network: region North (areas Haifa with
feeders H1, H2, and Akko with A1) and region South (area Eilat, feeder E1).
North can carry 1,000 MW, so a load forecast above 950 MW (1,000 less 5 %)
proposes an event; above 1,000 MW it suggests load shedding.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from voltdesk.analytics.models import DailyTemperature
from voltdesk.core import roles
from voltdesk.core.models import Area, AuditEntry, Feeder, Region
from voltdesk.core.services import utility_zone
from voltdesk.customers.models import Site
from voltdesk.demand.choices import EventStatus, ProposalReason, ProposalStatus, Severity
from voltdesk.demand.models import DemandEvent, DemandProposal, LoadForecast
from voltdesk.demand.proposals import declare_proposal, dismiss_proposal, propose_events
from voltdesk.demand.services import DemandError
from voltdesk.notifications.models import Message


def local(day, hour):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=utility_zone())


@pytest.fixture
def grid(utility, make_customer, make_user):
    north = Region.objects.create(name="North", capacity_mw=Decimal("1000"))
    south = Region.objects.create(name="South")
    haifa = Area.objects.create(region=north, name="Haifa", kind="urban")
    akko = Area.objects.create(region=north, name="Akko", kind="rural")
    eilat = Area.objects.create(region=south, name="Eilat", kind="remote")
    f = {
        name: Feeder.objects.create(area=area, name=name)
        for name, area in [("H1", haifa), ("H2", haifa), ("A1", akko), ("E1", eilat)]
    }

    def customer(name, feeder, language, phone):
        c = make_customer(name=name, kind="residential", language=language, phone=phone)
        Site.objects.filter(customer=c).update(feeder=f[feeder], area=f[feeder].area)
        return c

    w = SimpleNamespace(utility=utility, north=north, south=south, haifa=haifa, akko=akko)
    w.noa = customer("Noa", "H1", "he", "+972501234567")
    w.li = customer("Li Wei", "A1", "zh-hans", "+972501234568")
    w.eilat = customer("Eilat Fish", "E1", "en", "+972501234570")
    w.demand = make_user(roles.DEMAND_MANAGER, username="omer")
    w.today = timezone.now().astimezone(utility_zone()).date()
    w.day = lambda n: w.today + dt.timedelta(days=n)
    return w


def forecast(day, celsius, region=None):
    DailyTemperature.objects.update_or_create(
        region=region, day=day, defaults={"celsius": Decimal(celsius)}
    )


def proposals():
    return {(p.day, p.reason, p.region_id): p for p in DemandProposal.objects.all()}


def test_a_hot_day_in_the_forecast_is_proposed_for_its_afternoon(grid):
    forecast(grid.day(1), "34.9")  # just below the margin
    forecast(grid.day(2), "36.5")
    forecast(grid.day(3), "35.0")  # "at or above": exactly the margin counts
    forecast(grid.day(4), "41.0")  # beyond the 3 days proposed
    run = propose_events(grid.utility, grid.today)
    assert [(p.day, p.forecast) for p in run.created] == [
        (grid.day(2), Decimal("36.5")),
        (grid.day(3), Decimal("35.0")),
    ]
    p = run.created[0]
    assert p.reason == ProposalReason.HOT_DAY and p.region is None and p.margin == 35
    assert p.status == ProposalStatus.PROPOSED and p.severity == Severity.ADVISORY
    assert (p.starts_at, p.ends_at) == (local(grid.day(2), 13), local(grid.day(2), 18))


def test_nothing_is_proposed_while_the_forecast_stays_inside_the_margins(grid):
    for n, celsius in [(1, "34.9"), (2, "3.1"), (3, "20")]:
        forecast(grid.day(n), celsius)
    assert propose_events(grid.utility, grid.today).created == []
    assert not DemandProposal.objects.exists()
    assert not AuditEntry.objects.filter(action="demand.events_proposed").exists()


def test_a_regions_own_cold_figure_wins_over_the_utility_wide_one(grid):
    forecast(grid.day(1), "10")
    forecast(grid.day(1), "-1.0", region=grid.north)
    propose_events(grid.utility, grid.today)
    # North is at -1 °C (at or below 3 °C); South has no own figure and the
    # utility-wide 10 °C is inside the margins.
    (p,) = DemandProposal.objects.all()
    assert (p.reason, p.region, p.forecast, p.margin) == (
        ProposalReason.COLD_DAY,
        grid.north,
        Decimal("-1.0"),
        Decimal("3.0"),
    )
    assert (p.starts_at, p.ends_at) == (local(grid.day(1), 17), local(grid.day(1), 21))


def test_the_cn_profile_has_its_own_margins(utility_cn):
    assert (utility_cn.demand_hot_day_celsius, utility_cn.demand_cold_day_celsius) == (37, -5)
    assert utility_cn.demand_reserve_margin_pct == 5
    today = dt.date(2026, 7, 20)
    forecast(dt.date(2026, 7, 21), "36.0")  # hot in Haifa, not in Shanghai
    forecast(dt.date(2026, 7, 22), "37.5")
    run = propose_events(utility_cn, today)
    assert [p.day for p in run.created] == [dt.date(2026, 7, 22)]


def test_a_load_forecast_above_the_reserve_margin_is_proposed_around_its_peak(grid):
    LoadForecast.objects.create(region=grid.north, day=grid.day(1), peak_mw=940)  # < 950
    LoadForecast.objects.create(region=grid.north, day=grid.day(2), peak_mw=960, peak_hour=14)
    LoadForecast.objects.create(region=grid.north, day=grid.day(3), peak_mw=1010, peak_hour=19)
    LoadForecast.objects.create(region=grid.south, day=grid.day(2), peak_mw=5000)  # no capacity
    propose_events(grid.utility, grid.today)
    found = proposals()
    assert set(found) == {
        (grid.day(2), ProposalReason.LOAD, grid.north.pk),
        (grid.day(3), ProposalReason.LOAD, grid.north.pk),
    }
    eats_reserve = found[(grid.day(2), ProposalReason.LOAD, grid.north.pk)]
    assert eats_reserve.margin == Decimal("950.0") and eats_reserve.severity == Severity.ADVISORY
    # The peak hour 14:00-15:00 and two hours either side.
    assert eats_reserve.starts_at == local(grid.day(2), 12)
    assert eats_reserve.ends_at == local(grid.day(2), 17)
    over = found[(grid.day(3), ProposalReason.LOAD, grid.north.pk)]
    assert over.severity == Severity.SHEDDING
    assert (over.starts_at, over.ends_at) == (local(grid.day(3), 17), local(grid.day(3), 22))


def test_proposing_again_updates_open_proposals_and_never_repeats_a_decision(grid):
    forecast(grid.day(1), "36")
    forecast(grid.day(2), "37")
    forecast(grid.day(3), "38")
    first = propose_events(grid.utility, grid.today)
    assert len(first.created) == 3
    again = propose_events(grid.utility, grid.today)
    assert (again.created, again.updated, again.withdrawn) == ([], 0, 0)
    assert DemandProposal.objects.count() == 3

    one, two, three = first.created
    dismiss_proposal(one, grid.demand, note="the grid operator expects enough reserve")
    forecast(grid.day(1), "39")  # hotter still: a dismissed day stays dismissed
    forecast(grid.day(2), "38.5")  # the open proposal gets the newest forecast
    forecast(grid.day(3), "30")  # no longer hot: withdrawn
    run = propose_events(grid.utility, grid.today)
    assert (run.created, run.updated, run.withdrawn) == ([], 1, 1)
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.status == ProposalStatus.DISMISSED and one.forecast == 36
    assert two.forecast == Decimal("38.5")
    assert not DemandProposal.objects.filter(pk=three.pk).exists()


def test_declaring_a_proposal_declares_the_event_and_warns_its_customers(
    grid, django_capture_on_commit_callbacks
):
    forecast(grid.day(2), "38", region=grid.north)
    (proposal,) = propose_events(grid.utility, grid.today).created
    with django_capture_on_commit_callbacks(execute=True):
        event = declare_proposal(proposal, grid.demand, severity=Severity.SHEDDING)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DECLARED and proposal.event == event
    assert proposal.decided_by == grid.demand
    assert event.status == EventStatus.DECLARED and event.declared_by == grid.demand
    assert list(event.regions.all()) == [grid.north]
    assert (event.starts_at, event.ends_at) == (local(grid.day(2), 13), local(grid.day(2), 18))
    assert "North" in event.title and "38" in event.proposed_from
    # North's customers are warned in their languages; South's are not.
    sms = dict(Message.objects.filter(channel="sms").values_list("customer__name", "language"))
    assert sms == {"Noa": "he", "Li Wei": "zh-hans"}
    with pytest.raises(DemandError, match="status: this proposal is already declared"):
        declare_proposal(proposal, grid.demand)
    assert DemandEvent.objects.count() == 1


def test_the_demand_manager_may_narrow_a_proposal_to_areas_and_change_its_window(grid):
    forecast(grid.day(2), "38")  # utility-wide: the whole network
    (proposal,) = propose_events(grid.utility, grid.today).created
    event = declare_proposal(
        proposal,
        grid.demand,
        areas=(grid.haifa.pk,),
        starts_at=local(grid.day(2), 14),
        ends_at=local(grid.day(2), 16),
    )
    assert {a.feeder.name for a in event.affected.select_related("feeder")} == {"H1", "H2"}
    assert "Haifa" in event.title
    assert (event.starts_at, event.ends_at) == (local(grid.day(2), 14), local(grid.day(2), 16))


def test_a_refused_declaration_changes_nothing(grid):
    forecast(grid.day(2), "38")
    (proposal,) = propose_events(grid.utility, grid.today).created
    with pytest.raises(DemandError, match="areas: 999999 are not known"):
        declare_proposal(proposal, grid.demand, areas=(999999,))
    with pytest.raises(DemandError, match="ends_at"):
        declare_proposal(proposal, grid.demand, ends_at=local(grid.day(2), 12))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PROPOSED and not DemandEvent.objects.exists()


def test_a_dismissed_proposal_cannot_be_declared(grid):
    forecast(grid.day(1), "-2")
    (proposal,) = propose_events(grid.utility, grid.today).created
    dismiss_proposal(proposal, grid.demand, note="  mild evening expected  ")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DISMISSED and proposal.note == "mild evening expected"
    assert AuditEntry.objects.filter(action="demand.proposal_dismissed").count() == 1
    with pytest.raises(DemandError, match="already dismissed"):
        declare_proposal(proposal, grid.demand)
    with pytest.raises(DemandError, match="already dismissed"):
        dismiss_proposal(proposal, grid.demand)
    assert not DemandEvent.objects.exists()


# The desk pages.


@pytest.fixture
def proposed(grid):
    forecast(grid.day(2), "36.5")
    (grid.proposal,) = propose_events(grid.utility, grid.today).created
    return grid


def test_the_demand_manager_sees_the_proposals_with_why(proposed, client):
    client.force_login(proposed.demand)
    page = client.get(reverse("desk:demand:proposals")).content.decode()
    assert f'data-proposal="{proposed.proposal.pk}"' in page
    assert "36.5 °C forecast for" in page and "hot-day margin of 35.0 °C" in page
    events = client.get(reverse("desk:demand:events")).content.decode()
    assert reverse("desk:demand:proposals") in events


@pytest.mark.parametrize("role", [roles.ACCOUNT_MANAGER, roles.AGENT, roles.SUPERVISOR])
def test_other_desk_roles_may_not_see_or_decide_proposals(proposed, make_user, client, role):
    client.force_login(make_user(role))
    assert client.get(reverse("desk:demand:proposals")).status_code == 403
    pk = proposed.proposal.pk
    assert client.post(reverse("desk:demand:declare_proposal", args=[pk])).status_code == 403
    assert client.post(reverse("desk:demand:dismiss_proposal", args=[pk])).status_code == 403
    proposed.proposal.refresh_from_db()
    assert proposed.proposal.status == ProposalStatus.PROPOSED


def test_customers_and_anonymous_visitors_are_refused(proposed, make_user, client):
    url = reverse("desk:demand:proposals")
    assert client.get(url).status_code == 302
    client.force_login(make_user(roles.CUSTOMER, customer=proposed.noa))
    assert client.get(url).status_code == 403
    pk = proposed.proposal.pk
    assert client.post(reverse("desk:demand:declare_proposal", args=[pk])).status_code == 403
    assert not DemandEvent.objects.exists()
    # The desk's links are not on the customer's pages either.
    assert url not in client.get(reverse("portal:home")).content.decode()


def declare_form(proposal, **changes):
    prefix = f"p{proposal.pk}-"
    data = {
        "severity": proposal.severity,
        "starts_at": proposal.starts_at.astimezone(utility_zone()).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": proposal.ends_at.astimezone(utility_zone()).strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(changes)
    return {prefix + k: v for k, v in data.items()}


def test_declare_from_the_page(proposed, client, django_capture_on_commit_callbacks):
    client.force_login(proposed.demand)
    url = reverse("desk:demand:declare_proposal", args=[proposed.proposal.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, declare_form(proposed.proposal, severity="shedding", areas=[proposed.akko.pk])
        )
    event = DemandEvent.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "desk:demand:event", args=[event.pk]
    )
    assert event.severity == Severity.SHEDDING
    assert {a.feeder.name for a in event.affected.select_related("feeder")} == {"A1"}
    assert list(Message.objects.filter(channel="sms").values_list("customer__name", flat=True)) == [
        "Li Wei"
    ]
    # Gone from the open list, shown as declared with a link to its event.
    page = client.get(reverse("desk:demand:proposals")).content.decode()
    assert 'data-proposal="' not in page and reverse("desk:demand:event", args=[event.pk]) in page


def test_bad_input_and_unknown_ids_are_refused_and_change_nothing(proposed, client):
    client.force_login(proposed.demand)
    pk = proposed.proposal.pk
    declare = reverse("desk:demand:declare_proposal", args=[pk])
    assert client.post(reverse("desk:demand:declare_proposal", args=[999999])).status_code == 404
    assert client.post(reverse("desk:demand:dismiss_proposal", args=[999999])).status_code == 404
    assert client.get(declare).status_code == 405
    bad_area = client.post(declare, declare_form(proposed.proposal, areas=["999999"]))
    assert bad_area.status_code == 400 and "999999" in bad_area.content.decode()
    # An area of another region than the proposal's scope is not offered either.
    forecast(proposed.day(1), "36", region=proposed.north)
    propose_events(proposed.utility, proposed.today)
    north = DemandProposal.objects.get(region=proposed.north)
    eilat = Area.objects.get(name="Eilat")
    other = client.post(
        reverse("desk:demand:declare_proposal", args=[north.pk]),
        declare_form(north, areas=[eilat.pk]),
    )
    assert other.status_code == 400
    bad_time = client.post(declare, declare_form(proposed.proposal, starts_at="tomorrow"))
    assert bad_time.status_code == 400
    ends_first = client.post(
        declare, declare_form(proposed.proposal, ends_at=proposed.day(2).isoformat() + "T09:00")
    )
    assert ends_first.status_code == 400 and "ends_at" in ends_first.content.decode()
    assert not DemandEvent.objects.exists()
    proposed.proposal.refresh_from_db()
    assert proposed.proposal.status == ProposalStatus.PROPOSED


def test_dismiss_from_the_page(proposed, client):
    client.force_login(proposed.demand)
    url = reverse("desk:demand:dismiss_proposal", args=[proposed.proposal.pk])
    response = client.post(url, {"note": "cool sea breeze"})
    assert response.status_code == 302
    proposed.proposal.refresh_from_db()
    assert proposed.proposal.status == ProposalStatus.DISMISSED
    assert proposed.proposal.decided_by == proposed.demand
    again = client.post(url, {"note": "twice"})
    assert again.status_code == 400 and "already dismissed" in again.content.decode()


# The command and the daily job.


def test_the_command_proposes_from_the_date_given(grid, capsys):
    forecast(dt.date(2026, 8, 2), "36.5")
    call_command("propose_demand_events", day="2026-08-01")
    out = capsys.readouterr().out
    assert "36.5 °C forecast for" in out
    assert "Proposals for 2026-08-02 to 2026-08-04: 1 new, 0 updated, 0 withdrawn." in out
    call_command("propose_demand_events", day="2026-08-01")
    assert "0 new, 0 updated, 0 withdrawn" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--date 'August' is not a date"):
        call_command("propose_demand_events", day="August")


def test_proposals_run_every_morning():
    from voltdesk.demand.beat import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["demand-propose-events-daily"]
    assert entry["task"] == "voltdesk.demand.tasks.propose_demand_events"
    assert entry["schedule"].hour == {6}


def test_load_forecasts_are_imported_from_a_file_and_proposed(grid, tmp_path, capsys):
    day = grid.day(1).isoformat()
    good = tmp_path / "load.csv"
    good.write_text(f"day,region,peak_mw,peak_hour\n{day},North,975.5,20\n{day},South,300,\n")
    call_command("import_load_forecasts", str(good))
    assert "2 region-days imported" in capsys.readouterr().out
    good.write_text(f"day,region,peak_mw\n{day},North,990\n")  # a newer forecast overwrites
    call_command("import_load_forecasts", str(good))
    north = LoadForecast.objects.get(region=grid.north)
    assert (north.peak_mw, north.peak_hour) == (Decimal("990.0"), 14)
    (p,) = propose_events(grid.utility, grid.today).created
    assert (p.reason, p.region, p.forecast) == (ProposalReason.LOAD, grid.north, 990)

    bad = tmp_path / "bad.csv"
    bad.write_text(f"day,region,peak_mw\n{day},North,1200\n{day},Nowhere,10\n")
    with pytest.raises(CommandError, match=r"line 3: region 'Nowhere' does not exist"):
        call_command("import_load_forecasts", str(bad))
    bad.write_text(f"day,region,peak_mw,peak_hour\n{day},North,-5,14\n")
    with pytest.raises(CommandError, match="line 2: peak_mw '-5' is not a load in MW"):
        call_command("import_load_forecasts", str(bad))
    bad.write_text(f"day,region,peak_mw,peak_hour\n{day},North,900,25\n")
    with pytest.raises(CommandError, match="peak_hour '25' is not an hour"):
        call_command("import_load_forecasts", str(bad))
    assert LoadForecast.objects.get(region=grid.north).peak_mw == 990
