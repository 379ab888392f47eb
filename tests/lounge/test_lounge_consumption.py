"""The lounge's site page: 15-minute readings of a day and the time-of-use breakdown by month.

Acme's first site is on IEC's TAOZ LV (``billing.tariff_catalogue``): summer
(June-September) peak 17:00-23:00 on working days, transition (March-May,
October-November) peak 17:00-22:00, every other hour, and all of Friday,
Saturday and holidays, off-peak. Readings, local time (Asia/Jerusalem), and
their periods by hand:

=======================  =========================  =====  ========  ====
day                      interval(s)                kWh    off-peak  peak
=======================  =========================  =====  ========  ====
Tue 16 Jun 2026 (work)   16:00 16:15 16:30 16:45    1 1.5  7
                                                    2 2.5
                         17:00 17:15 17:30 17:45    3 3.5            15
                                                    4 4.5
                         22:30 22:45                2 2              4
                         23:00 23:15                1 1    2
Wed 17 Jun 2026 (work)   16:45-17:15 (30 min)       4      2 (half)  2 (half)
Fri 19 Jun 2026 (wkend)  17:00 17:15 17:30 17:45    1 each 4
June 2026                                           36     15        21
Thu 22 Oct 2026 (UTC+3)  16:45 = 13:45 UTC          1      1
                         17:00 = 14:00 UTC          2               2
Mon 26 Oct 2026 (UTC+2)  16:45 = 14:45 UTC          3      3
                         17:00 = 15:00 UTC          4               4
October 2026                                        10     4         6
both months                                         46     19        27
=======================  =========================  =====  ========  ====

Shares: peak 27 / 46 = 58.7 %, off-peak 19 / 46 = 41.3 %. The clocks went back
on Sunday 25 October, so 17:00 local is 14:00 UTC on the 22nd and 15:00 UTC on
the 26th: the same UTC hour is off-peak on one day and peak on the other.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from voltdesk.billing import breakdown
from voltdesk.billing.models import Tariff
from voltdesk.core import roles
from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.metering.models import Reading
from voltdesk.metering.services import refresh_rollups
from voltdesk.portal import consumption

D = Decimal
JERUSALEM = ZoneInfo("Asia/Jerusalem")
UTC = dt.UTC
QUARTER = dt.timedelta(minutes=15)
TODAY = dt.date(2026, 12, 3)  # the chart's 24 months: January 2025 to December 2026


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JERUSALEM)


def add(site, start: dt.datetime, kwh, length=QUARTER) -> None:
    Reading.objects.create(site=site, start=start, end=start + length, kwh=D(kwh), source="csv")


def add_quarters(site, start: dt.datetime, values) -> None:
    for n, kwh in enumerate(values):
        add(site, start + n * QUARTER, kwh)


@pytest.fixture
def metered(lounge, make_user, monkeypatch):
    """Acme's first site on TAOZ LV with the readings of the table above; its second site flat.

    A third site came to Acme at 17:00 on 16 June 2026 from Old Owner Ltd; it has
    readings of 10 kWh a quarter from 16:00 to 18:00 that day.
    """
    monkeypatch.setattr(consumption, "today", lambda: TODAY)
    taoz = Tariff.objects.get(name="TAOZ LV")
    flat = Tariff.objects.get(name="General LV")
    first, second = lounge.acme.sites.order_by("ref")
    Contract.objects.filter(site=first).update(tariff=taoz)
    Contract.objects.filter(site=second).update(tariff=flat)
    add_quarters(first, local(2026, 6, 16, 16), ["1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5"])
    add_quarters(first, local(2026, 6, 16, 22, 30), ["2", "2", "1", "1"])
    add(first, local(2026, 6, 17, 16, 45), "4", length=dt.timedelta(minutes=30))
    add_quarters(first, local(2026, 6, 19, 17), ["1", "1", "1", "1"])
    add_quarters(first, dt.datetime(2026, 10, 22, 13, 45, tzinfo=UTC), ["1", "2"])
    add_quarters(first, dt.datetime(2026, 10, 26, 14, 45, tzinfo=UTC), ["3", "4"])

    old_owner = Customer.objects.create(ref="C-OLD", name="Old Owner Ltd", kind="business")
    handed = Site.objects.create(ref="S-HANDED", customer=lounge.acme)
    change = local(2026, 6, 16, 17)
    Contract.objects.create(customer=old_owner, site=handed, end=change, tariff=taoz)
    Contract.objects.create(customer=lounge.acme, site=handed, start=change, tariff=taoz)
    add_quarters(handed, local(2026, 6, 16, 16), ["10"] * 8)

    refresh_rollups([first.pk, handed.pk])
    return SimpleNamespace(
        **vars(lounge),
        first=first,
        second=second,
        handed=handed,
        old_owner=make_user(roles.CUSTOMER, username="old-owner", customer=old_owner),
    )


def site_page(client, site, query=""):
    return client.get(reverse("portal:site", args=[site.ref]) + query)


def interval_rows(response) -> list[tuple[str, str, str, str, str]]:
    """(from, until, kWh, kW, period) of each row of the intervals table."""
    return [
        (
            f"{i.start:%H:%M}",
            f"{i.end:%H:%M}",
            f"{i.kwh:.3f}",
            f"{i.kw:.1f}",
            i.period,
        )
        for i in response.context["intervals"]
    ]


def test_day_view_shows_each_quarter_hour_with_its_period(metered, client_for):
    response = site_page(client_for(metered.admin), metered.first, "?day=2026-06-16")

    assert response.status_code == 200
    # kW is the quarter's kWh x 4.
    assert interval_rows(response) == [
        ("16:00", "16:15", "1.000", "4.0", "Off-peak"),
        ("16:15", "16:30", "1.500", "6.0", "Off-peak"),
        ("16:30", "16:45", "2.000", "8.0", "Off-peak"),
        ("16:45", "17:00", "2.500", "10.0", "Off-peak"),
        ("17:00", "17:15", "3.000", "12.0", "Peak"),
        ("17:15", "17:30", "3.500", "14.0", "Peak"),
        ("17:30", "17:45", "4.000", "16.0", "Peak"),
        ("17:45", "18:00", "4.500", "18.0", "Peak"),
        ("22:30", "22:45", "2.000", "8.0", "Peak"),
        ("22:45", "23:00", "2.000", "8.0", "Peak"),
        ("23:00", "23:15", "1.000", "4.0", "Off-peak"),
        ("23:15", "23:30", "1.000", "4.0", "Off-peak"),
    ]
    html = response.content.decode()
    # 1 + 1.5 + 2 + 2.5 + 3 + 3.5 + 4 + 4.5 + 2 + 2 + 1 + 1 = 28 kWh
    assert '<strong class="vd-number">28.000</strong>' in html
    assert "12 interval readings." in html
    assert "Highest: 17:45–18:00, 4.500 kWh (18.0 kW on average)." in html
    assert 'id="interval-chart-data"' in html
    chart = response.context["interval_chart"]
    assert chart["labels"][:2] == ["16:00", "16:15"]
    assert chart["values"][-1] == 1.0


def test_day_view_defaults_to_the_newest_day_with_interval_data(metered, client_for):
    response = site_page(client_for(metered.admin), metered.first)

    assert response.context["day"] == dt.date(2026, 10, 26)
    # After the clocks went back (UTC+2): 14:45 UTC is 16:45, off-peak; 15:00 UTC is 17:00, peak.
    assert interval_rows(response) == [
        ("16:45", "17:00", "3.000", "12.0", "Off-peak"),
        ("17:00", "17:15", "4.000", "16.0", "Peak"),
    ]


def test_a_site_held_from_mid_day_shows_only_the_held_intervals(metered, client_for):
    acme = site_page(client_for(metered.admin), metered.handed, "?day=2026-06-16")
    old = site_page(client_for(metered.old_owner), metered.handed, "?day=2026-06-16")

    # Acme holds the site from 17:00: four quarters of 10 kWh; Old Owner had the four before.
    assert [r[:3] for r in interval_rows(acme)] == [
        ("17:00", "17:15", "10.000"),
        ("17:15", "17:30", "10.000"),
        ("17:30", "17:45", "10.000"),
        ("17:45", "18:00", "10.000"),
    ]
    assert [r[:3] for r in interval_rows(old)] == [
        ("16:00", "16:15", "10.000"),
        ("16:15", "16:30", "10.000"),
        ("16:30", "16:45", "10.000"),
        ("16:45", "17:00", "10.000"),
    ]
    assert "16:15" not in acme.content.decode()
    assert "17:15" not in old.content.decode()


def test_a_day_outside_the_held_period_shows_no_readings(metered, client_for):
    response = site_page(client_for(metered.admin), metered.first, "?day=2026-06-18")

    assert response.context["intervals"] == []
    assert "No interval readings for" in response.content.decode()


def test_another_companys_site_is_not_found(metered, client_for):
    bakery = client_for(metered.bakery_owner)

    assert site_page(bakery, metered.first, "?day=2026-06-16").status_code == 404
    assert site_page(bakery, metered.handed).status_code == 404
    # The former holder sees its own hours only (above), never Acme's other sites.
    assert site_page(client_for(metered.old_owner), metered.first).status_code == 404


def test_anonymous_goes_to_log_in(metered, client_for):
    target = reverse("portal:site", args=[metered.first.ref]) + "?day=2026-06-16"

    response = client_for(None).get(target)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("value", ["2026-13-45", "yesterday", "16/06/2026", "2026-06"])
def test_a_bad_day_is_named_and_the_page_still_opens(metered, client_for, value):
    response = site_page(client_for(metered.admin), metered.first, f"?day={value}")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"(day={value})" in html
    assert "YYYY-MM-DD" in html
    assert response.context["day"] == dt.date(2026, 10, 26)  # the default instead


@pytest.mark.parametrize(
    "query", ["?day=0001-01-01", "?day=9999-12-31", "?month=0001-01", "?month=9999-12"]
)
def test_a_date_out_of_range_is_named_and_the_page_still_opens(metered, client_for, query):
    response = site_page(client_for(metered.admin), metered.first, query)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"({query[1:]}) is out of range" in html


@pytest.mark.parametrize("query", ["?day=1900-01-01", "?day=2999-12-31&month=2999-12"])
def test_the_first_and_last_days_accepted_open_empty(metered, client_for, query):
    response = site_page(client_for(metered.admin), metered.first, query)

    assert response.status_code == 200
    assert response.context["intervals"] == []
    assert response.context["problems"] == []


def test_the_day_links_keep_the_chosen_month(metered, client_for):
    html = site_page(
        client_for(metered.admin), metered.first, "?day=2026-06-16&month=2026-06"
    ).content.decode()

    assert 'href="?month=2026-06&amp;day=2026-06-15#intervals"' in html
    assert 'href="?month=2026-06&amp;day=2026-06-17#intervals"' in html
    assert 'href="?month=2026-05&amp;day=2026-06-16#daily"' in html


def test_a_bad_month_is_named_too(metered, client_for):
    response = site_page(client_for(metered.admin), metered.first, "?month=June")

    assert response.status_code == 200
    assert "(month=June)" in response.content.decode()
    assert response.context["daily_month"] == dt.date(2026, 10, 1)


def test_time_of_use_breakdown_by_month(metered, client_for):
    response = site_page(client_for(metered.admin), metered.first)

    rows = response.context["tou_rows"]
    assert rows["headers"] == ["Peak", "Off-peak"]  # TAOZ has no shoulder hours
    assert [(r["month"], r["cells"], r["total"]) for r in rows["rows"]] == [
        (dt.date(2026, 6, 1), [D(21), D(15)], D(36)),
        (dt.date(2026, 10, 1), [D(6), D(4)], D(10)),
    ]
    assert rows["totals"] == [D(27), D(19)]
    html = response.content.decode()
    assert "58.7 %" in html and "41.3 %" in html  # 27 / 46 and 19 / 46
    assert "TAOZ LV" in html
    # The breakdown adds up to the monthly figures of the chart.
    monthly = {p.when: p.kwh for p in response.context["points"] if p.kwh is not None}
    assert monthly == {dt.date(2026, 6, 1): D(36), dt.date(2026, 10, 1): D(10)}


def test_breakdown_counts_only_the_whole_days_held(metered):
    """The handed-over site from 17 June on (the 16th was held only in part): no readings."""
    contracts = list(Contract.objects.filter(customer=metered.acme, site=metered.handed))
    months = consumption.month_starts(24, last=TODAY)

    result = breakdown.tou_breakdown(contracts, months)

    assert result.on_time_of_use and not result.has_interval_data


def test_a_flat_tariff_site_says_it_has_no_time_of_use(metered, client_for):
    html = site_page(client_for(metered.admin), metered.second).content.decode()

    assert "is not on a time-of-use tariff" in html
    assert 'id="tou-table"' not in html


def test_a_time_of_use_site_without_interval_data_says_so(metered, client_for):
    html = site_page(client_for(metered.admin), metered.handed).content.decode()

    assert "has no interval meter data in these months" in html
    assert 'id="tou-table"' not in html


def test_months_held_in_part_count_exact_shares_of_straddling_reads(lounge, make_user):
    """A register read of 20 Feb - 20 Mar 2026 (28 days, 280 kWh: 10 a day) at a site that
    changed hands at midnight on 11 March, plus a day read of 7 kWh on 25 March.

    Old Owner: February 20..28 = 9 days = 90; March 1..10 = 10 days = 100 (the read
    straddles both ends of its span). New holder (Acme): March 11..19 = 9 days = 90,
    plus the 7 of 25 March = 97. Israel is on UTC+2 all that time (summer time
    starts on 27 March), so every day of the read is 24 hours.
    """
    from voltdesk.core.access import visible_contracts

    old = Customer.objects.create(ref="C-REG", name="Register Old Ltd", kind="business")
    site = Site.objects.create(ref="S-REG", customer=lounge.acme)
    change = local(2026, 3, 11)
    Contract.objects.create(customer=old, site=site, end=change)
    Contract.objects.create(customer=lounge.acme, site=site, start=change)
    add(site, local(2026, 2, 20), "280", length=dt.timedelta(days=28))
    add(site, local(2026, 3, 25), "7", length=dt.timedelta(days=1))
    refresh_rollups([site.pk])
    old_user = make_user(roles.CUSTOMER, customer=old)
    months = [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]

    old_points = consumption.monthly_series(old_user, list(visible_contracts(old_user)), months)
    acme_contracts = list(visible_contracts(lounge.admin).filter(site=site))
    acme_points = consumption.monthly_series(lounge.admin, acme_contracts, months)

    assert [p.kwh for p in old_points] == [D("90"), D("100")]
    assert [p.kwh for p in acme_points] == [None, D("97")]


@pytest.mark.parametrize("language", ["en", "he", "zh-hans"])
def test_consumption_table_writes_kwh_as_the_other_pages_do(language):
    """The by-site table formats its thousands of cells itself: the same text as floatformat."""
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    values = ["0", "0.5", "1.5", "2.5", "999.5", "1234.5", "15174842.49", "-1234.5"]
    with translation.override(language):
        write = consumption.whole_kwh_format()
        assert [write(D(v)) for v in values] == [floatformat(D(v), "0g") for v in values]
        assert write(None) == "–"
    assert write(D("15174842.49")) == "15,174,842"


@pytest.mark.parametrize("language", ["he", "zh-hans"])
def test_site_page_opens_in_every_language(metered, client_for, language):
    response = site_page(client_for(metered.admin, language=language), metered.first)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    assert 'id="tou-table"' in html and 'id="interval-table"' in html
