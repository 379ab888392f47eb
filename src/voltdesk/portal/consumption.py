"""Consumption series the pages show, read from the daily and monthly rollups.

Rollups are per site, but a site may change hands: a customer's consumption is
only what its sites used while its contracts were in force. So every series here
is counted within the given contracts' periods (in the utility's time zone), on
top of ``core.access.visible_rollups``. Periods are whole days for daily rollups
and whole months for monthly ones: a month in which a site changed hands counts
for both holders (the access module's documented rule); exact figures for such a
month come from readings.

Desk and portal both read these; it belongs in ``metering/queries.py`` once that
module exists.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext

from voltdesk.core.access import visible_rollups
from voltdesk.core.services import utility_zone
from voltdesk.metering.models import DailyRollup, MonthlyRollup


@dataclass(frozen=True)
class Point:
    """kWh of one day or month; ``kwh`` is None when no rollup exists for it."""

    when: dt.date
    kwh: Decimal | None


def _period_bounds(contract, zone) -> tuple[dt.date | None, dt.date | None]:
    """First local day in force and first local day no longer in force ([start, end))."""
    start = timezone.localtime(contract.start, zone).date() if contract.start else None
    end = None
    if contract.end:
        local_end = timezone.localtime(contract.end, zone)
        end = local_end.date()
        if local_end.time() != dt.time(0):
            end += dt.timedelta(days=1)  # a contract ending mid-day still covers that day
    return start, end


def held_filter(contracts, field: str, *, monthly: bool) -> Q | None:
    """A filter on rollups to the days (or months) the contracts were in force.

    Contracts with the same bounds share one clause, so a customer with hundreds
    of ordinary contracts still gives a short query. None means nothing was held.
    """
    zone = utility_zone()
    sites_by_bounds: dict[tuple, list[int]] = defaultdict(list)
    for contract in contracts:
        start, end = _period_bounds(contract, zone)
        if monthly and start is not None:
            start = start.replace(day=1)
        sites_by_bounds[(start, end)].append(contract.site_id)
    held = None
    for (start, end), site_ids in sites_by_bounds.items():
        clause = Q(site_id__in=site_ids)
        if start is not None:
            clause &= Q(**{f"{field}__gte": start})
        if end is not None:
            clause &= Q(**{f"{field}__lt": end})
        held = clause if held is None else held | clause
    return held


def month_starts(count: int, last: dt.date | None = None) -> list[dt.date]:
    """The first days of ``count`` months ending with ``last``'s month (default: this month)."""
    last = last or timezone.localdate(timezone=utility_zone())
    year, month = last.year, last.month
    firsts = []
    for _ in range(count):
        firsts.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return firsts[::-1]


def _monthly_rows(user, contracts, months: list[dt.date]):
    held = held_filter(contracts, "month", monthly=True)
    if held is None or not months:
        return MonthlyRollup.objects.none()
    qs = MonthlyRollup.objects.filter(held, month__gte=months[0], month__lte=months[-1])
    return visible_rollups(user, qs, date_field="month")


def monthly_series(user, contracts, months: list[dt.date]) -> list[Point]:
    """Total kWh per month over the contracts' sites, within their periods."""
    rows = _monthly_rows(user, contracts, months).values("month").annotate(total=Sum("kwh"))
    by_month = {row["month"]: row["total"] for row in rows}
    return [Point(month, by_month.get(month)) for month in months]


def monthly_by_site(user, contracts, months: list[dt.date]) -> dict[int, list[Point]]:
    """kWh per site and month, within the contracts' periods: {site id: points}."""
    rows = (
        _monthly_rows(user, contracts, months).values("site_id", "month").annotate(total=Sum("kwh"))
    )
    found: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for row in rows:
        found[row["site_id"]][row["month"]] = row["total"]
    return {
        site_id: [Point(month, by_month.get(month)) for month in months]
        for site_id, by_month in found.items()
    }


def _daily_qs(user, contracts):
    held = held_filter(contracts, "day", monthly=False)
    if held is None:
        return DailyRollup.objects.none()
    return visible_rollups(user, DailyRollup.objects.filter(held), date_field="day")


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
