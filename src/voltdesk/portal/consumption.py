"""Consumption series the pages show, read from the daily and monthly rollups.

Rollups are per site, but a site may change hands: a customer's consumption is
only what its sites used while its contracts were in force. So every series here
is counted within the given contracts' periods (whole local days, in the
utility's time zone; ``core.access.held_days``), on top of
``core.access.visible_rollups``. A month in which a contract began or ended
part-way is counted exactly from readings, so each holder sees only its own days,
as the API does.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext

from voltdesk.core.access import rollups_held_by, visible_rollups
from voltdesk.core.services import utility_zone
from voltdesk.metering.models import DailyRollup, MonthlyRollup
from voltdesk.metering.services import site_consumption
from voltdesk.metering.visibility import partial_months_held


@dataclass(frozen=True)
class Point:
    """kWh of one day or month; ``kwh`` is None when no rollup exists for it."""

    when: dt.date
    kwh: Decimal | None


def month_starts(count: int, last: dt.date | None = None) -> list[dt.date]:
    """The first days of ``count`` months ending with ``last``'s month (default: this month)."""
    last = last or timezone.localdate(timezone=utility_zone())
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
    for contract in contracts:
        for month, first, end in partial_months_held(contract, zone, months):
            kwh = site_consumption(contract.site, first, end).total
            by_month = found[contract.site_id]
            by_month[month] = by_month.get(month, Decimal(0)) + kwh
    return found


def monthly_series(user, contracts, months: list[dt.date]) -> list[Point]:
    """Total kWh per month over the contracts' sites, within their periods."""
    totals: dict[dt.date, Decimal] = {}
    for by_month in _monthly_by_site(user, contracts, months).values():
        for month, kwh in by_month.items():
            totals[month] = totals.get(month, Decimal(0)) + kwh
    return [Point(month, totals.get(month)) for month in months]


def monthly_by_site(user, contracts, months: list[dt.date]) -> dict[int, list[Point]]:
    """kWh per site and month, within the contracts' periods: {site id: points}."""
    return {
        site_id: [Point(month, by_month.get(month)) for month in months]
        for site_id, by_month in _monthly_by_site(user, contracts, months).items()
    }


def _daily_qs(user, contracts):
    held = rollups_held_by(contracts, DailyRollup.objects.all(), date_field="day", monthly=False)
    return visible_rollups(user, held, date_field="day")


def latest_daily_month(user, contracts) -> dt.date | None:
    """The month of the newest daily figure (interval data), or None if there is none."""
    latest = _daily_qs(user, contracts).aggregate(latest=Max("day"))["latest"]
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
