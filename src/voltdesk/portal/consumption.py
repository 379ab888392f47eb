"""Consumption series the pages show, read from the daily and monthly rollups.

Rollups are per site, but a site may change hands: a customer's consumption is
only what its sites used while its contracts were in force. So every series here
is counted within the given contracts' periods (whole local days, in the
utility's time zone; ``core.access.held_days``), on top of
``core.access.visible_rollups``. A month in which a contract began or ended
part-way is counted exactly from readings, so each holder sees only its own days,
as the API does. A day's interval readings (the 15-minute view) come through
``core.access.visible_readings``: only the intervals that began while the
customer's contract was in force.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext

from voltdesk.billing.choices import TouPeriod
from voltdesk.core.access import rollups_held_by, visible_readings, visible_rollups
from voltdesk.core.services import utility_zone
from voltdesk.metering.models import DailyRollup, MonthlyRollup, Reading
from voltdesk.metering.periods import local_midnight
from voltdesk.metering.services import spans_consumption
from voltdesk.metering.visibility import partial_months_held

KW_PLACES = Decimal("0.001")
WHOLE = Decimal(1)


@dataclass(frozen=True)
class Point:
    """kWh of one day or month; ``kwh`` is None when no rollup exists for it."""

    when: dt.date
    kwh: Decimal | None


def today() -> dt.date:
    """Today in the utility's time zone: where the pages' months and days end."""
    return timezone.localdate(timezone=utility_zone())


def month_starts(count: int, last: dt.date | None = None) -> list[dt.date]:
    """The first days of ``count`` months ending with ``last``'s month (default: this month)."""
    last = last or today()
    year, month = last.year, last.month
    firsts = []
    for _ in range(count):
        firsts.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return firsts[::-1]


def _monthly_by_site(user, contracts, months: list[dt.date]) -> dict[int, dict[dt.date, Decimal]]:
    """{site id: {month: kWh}} within the contracts' periods.

    Whole months come from the monthly rollups; a month in which a contract began
    or ended part-way is counted exactly from readings, for its held days only.
    """
    found: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    if not months:
        return found
    qs = MonthlyRollup.objects.filter(month__gte=months[0], month__lte=months[-1])
    qs = visible_rollups(
        user, rollups_held_by(contracts, qs, date_field="month", monthly=True), date_field="month"
    )
    for row in qs.values("site_id", "month").annotate(total=Sum("kwh")):
        found[row["site_id"]][row["month"]] = row["total"]
    zone = utility_zone()
    # Months held in part, exactly from readings: one query for all sites together.
    parts = [
        (contract.site_id, month, first, end)
        for contract in contracts
        for month, first, end in partial_months_held(contract, zone, months)
    ]
    figures = spans_consumption([(site_id, first, end) for site_id, _m, first, end in parts])
    for (site_id, month, _first, _end), kwh in zip(parts, figures, strict=True):
        by_month = found[site_id]
        by_month[month] = by_month.get(month, Decimal(0)) + kwh
    return found


def monthly_series(user, contracts, months: list[dt.date]) -> list[Point]:
    """Total kWh per month over the contracts' sites, within their periods."""
    return series_total(monthly_by_site(user, contracts, months), months)


def monthly_by_site(user, contracts, months: list[dt.date]) -> dict[int, list[Point]]:
    """kWh per site and month, within the contracts' periods: {site id: points}."""
    return {
        site_id: [Point(month, by_month.get(month)) for month in months]
        for site_id, by_month in _monthly_by_site(user, contracts, months).items()
    }


def series_total(by_site: dict[int, list[Point]], months: list[dt.date]) -> list[Point]:
    """The month-by-month sum of ``monthly_by_site``'s points (None where no site has data)."""
    totals: dict[dt.date, Decimal] = {}
    for points in by_site.values():
        for point in points:
            if point.kwh is not None:
                totals[point.when] = totals.get(point.when, Decimal(0)) + point.kwh
    return [Point(month, totals.get(month)) for month in months]


def _daily_qs(user, contracts):
    held = rollups_held_by(contracts, DailyRollup.objects.all(), date_field="day", monthly=False)
    return visible_rollups(user, held, date_field="day")


def latest_daily_day(user, contracts) -> dt.date | None:
    """The newest day with a daily figure (interval data), or None if there is none."""
    return _daily_qs(user, contracts).aggregate(latest=Max("day"))["latest"]


def latest_daily_month(user, contracts) -> dt.date | None:
    """The month of the newest daily figure (interval data), or None if there is none."""
    latest = latest_daily_day(user, contracts)
    return latest.replace(day=1) if latest else None


def daily_series(user, contracts, month: dt.date) -> list[Point]:
    """kWh per day of ``month`` within the contracts' periods."""
    following = (month + dt.timedelta(days=32)).replace(day=1)
    rows = (
        _daily_qs(user, contracts)
        .filter(day__gte=month, day__lt=following)
        .values("day")
        .annotate(total=Sum("kwh"))
    )
    by_day = {row["day"]: row["total"] for row in rows}
    days = [month + dt.timedelta(days=n) for n in range((following - month).days)]
    return [Point(day, by_day.get(day)) for day in days]


def total(points: list[Point]) -> Decimal | None:
    values = [p.kwh for p in points if p.kwh is not None]
    return sum(values, Decimal(0)) if values else None


def chart_payload(points: list[Point], label_format: str) -> dict:
    """What the ECharts bar chart needs; labels formatted in the active language."""
    return {
        "name": gettext("Consumption"),
        "unit": gettext("kWh"),
        "labels": [formats.date_format(p.when, label_format) for p in points],
        "values": [round(float(p.kwh), 3) if p.kwh is not None else None for p in points],
    }


@dataclass(frozen=True)
class Interval:
    """One interval reading of a day: local start and end, kWh, average kW, and its period."""

    start: dt.datetime
    end: dt.datetime
    kwh: Decimal
    kw: Decimal
    period: str  # the time-of-use period's name, "" without a time-of-use tariff


def day_intervals(user, site, day: dt.date, slots=()) -> list[Interval]:
    """The interval readings of ``site`` within local ``day`` the user may see, in time order.

    Read through ``core.access.visible_readings``: a customer user sees only the
    intervals that began while its own contract of the site was in force, so on
    a day the site changed hands each holder sees its own hours. ``slots``
    (``billing.breakdown.tou_slots_of_day``) name each interval's period.
    """
    zone = utility_zone()
    lo = local_midnight(day, zone)
    hi = local_midnight(day + dt.timedelta(days=1), zone)
    readings = visible_readings(
        user, Reading.objects.filter(site=site, start__gte=lo, end__lte=hi)
    ).order_by("start")
    labels = dict(TouPeriod.choices)
    result = []
    for start, end, kwh in readings.values_list("start", "end", "kwh"):
        hours = Decimal((end - start).total_seconds()) / 3600
        period = next((s.period for s in slots if s.start <= start < s.end), "")
        result.append(
            Interval(
                start.astimezone(zone),
                end.astimezone(zone),
                kwh,
                (kwh / hours).quantize(KW_PLACES),
                str(labels.get(period, "")),
            )
        )
    return result


def interval_chart(intervals: list[Interval]) -> dict:
    """The bar chart of a day's intervals, labelled by local start time."""
    return {
        "name": gettext("Consumption"),
        "unit": gettext("kWh"),
        "labels": [formats.time_format(i.start, "H:i") for i in intervals],
        "values": [round(float(i.kwh), 3) for i in intervals],
    }


@dataclass(frozen=True)
class DaySummary:
    total: Decimal
    count: int
    highest: Interval | None  # the interval of the most kWh (the first of equals)


def day_summary(intervals: list[Interval]) -> DaySummary:
    highest = max(intervals, key=lambda i: i.kwh, default=None)
    return DaySummary(sum((i.kwh for i in intervals), Decimal(0)), len(intervals), highest)


def tou_rows(tou) -> dict:
    """A ``billing.breakdown.TouBreakdown`` as table rows: kWh per period, month by month.

    The footer adds each period's total and its share of all the kWh broken down.
    """
    labels = dict(TouPeriod.choices)
    rows = [
        {"month": m.month, "cells": [m.kwh[p] for p in tou.periods], "total": m.total}
        for m in tou.months
    ]
    totals = [sum((m.kwh[p] for m in tou.months), Decimal(0)) for p in tou.periods]
    grand = sum(totals, Decimal(0))
    shares = [(t * 100 / grand) if grand else None for t in totals]
    return {
        "headers": [str(labels[p]) for p in tou.periods],
        "rows": rows,
        "totals": totals,
        "shares": shares,
        "total": grand,
    }


def whole_kwh_format():
    """A function writing kWh as ``floatformat:"0g"`` does, in the active language: fast.

    The consumption table has thousands of cells; the template filter takes
    about 50 µs a cell, this a few. None is written as a dash.
    """
    separator = formats.get_format("THOUSAND_SEPARATOR")
    grouping = formats.get_format("NUMBER_GROUPING")

    def write(value) -> str:
        if value is None:
            return "–"
        whole = Decimal(value).quantize(WHOLE, rounding=ROUND_HALF_UP)
        if grouping != 3:  # other groupings (none, Indian) the slow, general way
            return formats.number_format(whole, 0, force_grouping=True)
        return f"{int(whole):,}".replace(",", separator)

    return write
