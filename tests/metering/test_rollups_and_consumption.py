"""Daily and monthly rollups, and a site's consumption over a period, in local time."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from voltdesk.metering.models import DailyRollup, MonthlyRollup, Reading
from voltdesk.metering.services import ConsumptionError, refresh_rollups, site_consumption

IL_WINTER = timedelta(hours=2)  # Asia/Jerusalem in January and February


def il(y, m, d, h=0):
    return datetime(y, m, d, h, tzinfo=UTC) - IL_WINTER


@pytest.fixture
def site(make_customer):
    return make_customer().sites.get()


def add(site, start, end, kwh):
    return Reading.objects.create(site=site, start=start, end=end, kwh=Decimal(kwh), source="demo")


def months(site):
    return {
        m.isoformat()[:7]: v
        for m, v in MonthlyRollup.objects.filter(site=site).values_list("month", "kwh")
    }


def test_a_monthly_read_is_split_between_calendar_months_by_time(site):
    # 15 Jan to 15 Feb: 31 days, 10 kWh a day: 17 days in January, 14 in February.
    add(site, il(2024, 1, 15), il(2024, 2, 15), "310")

    refresh_rollups([site.id])

    assert months(site) == {"2024-01": Decimal("170"), "2024-02": Decimal("140")}
    assert not DailyRollup.objects.filter(site=site).exists()  # no daily profile to show


def test_daily_rollup_counts_local_days_even_when_the_clocks_change(site):
    # Israel moved to summer time on Friday 2024-03-29 at 02:00: a 23-hour day.
    midnight = datetime(2024, 3, 28, 22, tzinfo=UTC)  # 00:00 local, UTC+2
    Reading.objects.bulk_create(
        [
            Reading(
                site=site,
                start=midnight + timedelta(hours=h),
                end=midnight + timedelta(hours=h + 1),
                kwh=Decimal("1"),
                source="demo",
            )
            for h in range(24)  # the 24th hour is 00:00-01:00 on 30 March (UTC+3)
        ]
    )

    refresh_rollups()

    daily = {
        d.isoformat(): v for d, v in DailyRollup.objects.filter(site=site).values_list("day", "kwh")
    }
    assert daily == {"2024-03-29": Decimal("23"), "2024-03-30": Decimal("1")}
    assert months(site) == {"2024-03": Decimal("24")}


def test_refresh_replaces_what_was_there(site):
    reading = add(site, il(2024, 1, 10), il(2024, 1, 10, 1), "5")
    refresh_rollups([site.id])
    reading.kwh = Decimal("7")
    reading.save()

    refresh_rollups([site.id])

    assert months(site) == {"2024-01": Decimal("7")}
    assert DailyRollup.objects.get(site=site).kwh == Decimal("7")


def test_consumption_counts_edges_in_proportion_and_breaks_down_by_month(site):
    add(site, il(2024, 1, 15), il(2024, 2, 15), "310")  # 10 kWh a day
    add(site, il(2024, 2, 20), il(2024, 2, 20, 1), "2.5")  # after the period
    add(site, il(2024, 1, 25), il(2024, 1, 25, 1), "1.25")  # overlaps the monthly read

    result = site_consumption(site, date(2024, 1, 20), date(2024, 2, 10))

    # January 20-31: 12 days × 10 + 1.25; February 1-9: 9 days × 10.
    assert result.months == [
        (date(2024, 1, 1), Decimal("121.250000")),
        (date(2024, 2, 1), Decimal("90.000000")),
    ]
    assert result.total == Decimal("211.25")


def test_consumption_rounds_each_month_and_the_total_adds_up(site):
    add(site, il(2024, 1, 30), il(2024, 2, 2), "10")  # 3 days: 2 in Jan, 1 in Feb

    result = site_consumption(site, date(2024, 1, 1), date(2024, 3, 1))

    assert result.months == [
        (date(2024, 1, 1), Decimal("6.666667")),
        (date(2024, 2, 1), Decimal("3.333333")),
    ]
    assert result.total == Decimal("10.000000")


def test_consumption_refuses_an_empty_period(site):
    with pytest.raises(ConsumptionError):
        site_consumption(site, date(2024, 2, 1), date(2024, 2, 1))


def test_consumption_command_prints_total_and_months(site, run):
    add(site, il(2024, 1, 15), il(2024, 2, 15), "310")

    ok, out = run("consumption", site.ref, "--from", "2024-01-01", "--to", "2024-03-01")

    assert ok, out
    assert "2024-01" in out and "170.000000 kWh" in out
    assert "2024-02" in out and "140.000000 kWh" in out
    assert "Total: 310.000000 kWh" in out


@pytest.mark.parametrize(
    "args, reason",
    [
        (["NO-SUCH", "--from", "2024-01-01", "--to", "2024-02-01"], "unknown site NO-SUCH"),
        (["{site}", "--from", "2024-02-30", "--to", "2024-03-01"], "is not a date"),
        (["{site}", "--from", "2024-03-01", "--to", "2024-03-01"], "must be before"),
        (["{site}", "--from", "2024-04-01", "--to", "2024-03-01"], "must be before"),
    ],
)
def test_consumption_command_errors(site, run, args, reason):
    ok, message = run("consumption", *[a.format(site=site.ref) for a in args])

    assert not ok
    assert reason in message
