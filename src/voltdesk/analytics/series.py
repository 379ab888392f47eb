"""Daily work-order counts, the series that forecasts learn from.

One aggregate query (``TruncDate`` in the utility's time zone + ``Count``)
gives the orders per local day and series; days without orders are filled
with zeros in Python, over the small result. Every series runs from the first
day with any order to ``until``, so all of them line up day by day.

Grouping: ``None`` gives one series named "all"; ``"type"`` one per type code;
``"area"`` one per area name (orders without an area form "(no area)");
``"region"`` one per region name ("(no region)" likewise).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from voltdesk.core.services import get_utility, utility_zone
from voltdesk.workorders.models import WorkOrder

from .models import DailyTemperature

ALL = "all"
NO_AREA = "(no area)"
NO_REGION = "(no region)"
GROUPINGS = {
    None: None,
    "type": "order_type",
    "area": "area__name",
    "region": "area__region__name",
}
MISSING = {"area": NO_AREA, "region": NO_REGION}


@dataclass
class DailySeries:
    """Counts per local day, one list per series, all over ``days``."""

    days: list[date]
    series: dict[str, list[int]]
    holiday_country: str = ""
    regions: dict[str, int | None] = field(default_factory=dict)  # series -> region pk


def default_until() -> date | None:
    """The last local day with orders, but never today: a running day is not complete."""
    zone = utility_zone()
    last = WorkOrder.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is None:
        return None
    today = timezone.now().astimezone(zone).date()
    return min(last.astimezone(zone).date(), today - timedelta(days=1))


def daily_counts(
    *, by: str | None = None, until: date | None = None, order_type: str | None = None
) -> DailySeries:
    """Work orders per local day up to and including ``until``, grouped by ``by``."""
    utility = get_utility()
    zone = utility_zone()
    if until is None:
        until = default_until()
        if until is None:
            return DailySeries([], {}, utility.holiday_country)
    group = GROUPINGS[by]
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    orders = WorkOrder.objects.filter(created_at__lt=end)
    if order_type:
        orders = orders.filter(order_type=order_type)
    fields = ["day"] + ([group] if group else [])
    rows = (
        orders.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values(*fields)
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[str, dict[date, int]] = {}
    for row in rows:
        name = ALL if group is None else (row[group] or MISSING.get(by, ""))
        counts.setdefault(str(name), {})[row["day"]] = row["n"]
    if not counts:
        return DailySeries([], {}, utility.holiday_country)
    first = min(min(days) for days in counts.values())
    days = [first + timedelta(days=i) for i in range((until - first).days + 1)]
    series = {name: [per_day.get(d, 0) for d in days] for name, per_day in sorted(counts.items())}
    regions: dict[str, int | None] = {}
    if by == "region":
        from voltdesk.core.models import Region

        regions = dict(Region.objects.values_list("name", "pk"))
    elif by == "area":
        from voltdesk.core.models import Area

        regions = dict(Area.objects.values_list("name", "region_id"))
    return DailySeries(days, series, utility.holiday_country, regions)


def temperatures(first: date, last: date, *, region: int | None = None) -> dict[date, float] | None:
    """Daily °C from ``first`` to ``last``: the region's series where it has one, else the
    utility's (region empty); None when neither has any day in the span."""
    rows = DailyTemperature.objects.filter(day__gte=first, day__lte=last)
    if region is not None:
        own = dict(rows.filter(region_id=region).values_list("day", "celsius"))
        if own:
            return {d: float(c) for d, c in own.items()}
    whole = dict(rows.filter(region__isnull=True).values_list("day", "celsius"))
    return {d: float(c) for d, c in whole.items()} or None
