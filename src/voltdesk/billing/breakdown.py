"""Time-of-use breakdown of a site's consumption: peak, shoulder and off-peak kWh by month.

What the customer sees is what its bills split: the billing run's slots
(``tou.slots`` of each tariff version: seasons by month, day kinds by the
utility's holiday calendar, local clock hours across daylight saving), laid over
the whole local days the customer's contracts held the site
(``core.access.held_days``, as the monthly figures count them), and summed from
interval readings in one query (``queries.tou_kwh_by_month``). Only contracts on
a time-of-use tariff are broken down.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from voltdesk.core.access import held_days
from voltdesk.core.services import get_utility

from . import queries
from .choices import TariffKind, TouPeriod
from .models import TariffVersion
from .rating import kwh
from .tou import DayCalendar, Slot, TouPlan, plan_of, slots

PERIOD_ORDER = [TouPeriod.PEAK, TouPeriod.SHOULDER, TouPeriod.OFF_PEAK]


@dataclass(frozen=True)
class TouMonth:
    """One month's kWh per period (periods without readings are 0) and their total."""

    month: date
    kwh: dict[str, Decimal]
    total: Decimal


@dataclass(frozen=True)
class TouBreakdown:
    """The months of a breakdown that have interval readings, and the periods the tariffs use."""

    tariffs: list[str]  # names of the time-of-use tariffs of the contracts
    periods: list[str]  # TouPeriod values, peak first
    months: list[TouMonth]

    @property
    def on_time_of_use(self) -> bool:
        return bool(self.tariffs)

    @property
    def has_interval_data(self) -> bool:
        return bool(self.months)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _tou_contracts(contracts) -> list:
    return [c for c in contracts if c.tariff_id and c.tariff.kind == TariffKind.TIME_OF_USE]


def _versions(contracts, first: date, following: date) -> dict[int, list]:
    """{tariff id: its versions valid in [first, following)}, with seasons and windows."""
    tariff_ids = {c.tariff_id for c in contracts}
    if not tariff_ids:
        return {}
    by_tariff: dict[int, list] = {}
    versions = (
        TariffVersion.objects.filter(tariff_id__in=tariff_ids, valid_from__lt=following)
        .exclude(valid_to__lte=first)
        .select_related("tariff")
        .prefetch_related("seasons__windows")
        .order_by("tariff_id", "valid_from")
    )
    for version in versions:
        by_tariff.setdefault(version.tariff_id, []).append(version)
    return by_tariff


def _plan_key(plan: TouPlan) -> tuple:
    """What a plan's slots depend on, as a hashable key (a version may be edited)."""
    return (
        plan.kind,
        tuple(sorted(plan.season_of_month.items())),
        tuple(sorted(plan.hours.items())),
    )


@lru_cache(maxsize=4096)
def _slots_of(key: tuple, lo: date, hi: date, zone: ZoneInfo, country: str) -> tuple[Slot, ...]:
    # Slots depend only on these; a page shows 24 months of them on every request,
    # about 10 ms of Python each time.
    kind, season_of_month, hours = key
    plan = TouPlan(kind, dict(season_of_month), dict(hours))
    return tuple(slots(plan, lo, hi, zone, DayCalendar(country)))


def _days_touched(contract, zone) -> tuple[date | None, date | None]:
    """The local days [first, end) a contract was in force for at least part of."""
    first = end = None
    if contract.start is not None:
        first = contract.start.astimezone(zone).date()
    if contract.end is not None:
        end = (contract.end - timedelta(microseconds=1)).astimezone(zone).date()
        end += timedelta(days=1)
    return first, end


def _held_slots(
    contracts, first: date, following: date, *, whole_days: bool = True
) -> list[tuple[int, date, Slot]]:
    """(site id, month, slot) of every TOU contract's held days in [first, following).

    ``whole_days``: only the whole local days held, as the monthly figures count;
    else every day the contract was in force for a part of. Slots are made month
    by month, so each lies in one local month.
    """
    utility = get_utility()
    zone = ZoneInfo(utility.time_zone)
    versions = _versions(contracts, first, following)
    plans = {}
    found = []
    for contract in contracts:
        held_from, held_to = (held_days if whole_days else _days_touched)(contract, zone)
        for version in versions.get(contract.tariff_id, []):
            key = plans.get(version.pk) or plans.setdefault(version.pk, _plan_key(plan_of(version)))
            month = first.replace(day=1)
            while month < following:
                after = _next_month(month)
                lo = max(d for d in (month, first, version.valid_from, held_from) if d)
                hi = min(d for d in (after, following, version.valid_to, held_to) if d)
                if lo < hi:
                    found += [
                        (contract.site_id, month, s)
                        for s in _slots_of(key, lo, hi, zone, utility.holiday_country)
                    ]
                month = after
    return found


def tou_breakdown(contracts, months: list[date]) -> TouBreakdown:
    """Peak / shoulder / off-peak kWh per month of ``months`` over the contracts' held days.

    ``contracts`` are those the customer may see (``core.access.visible_contracts``),
    with their tariff loaded; those not on a time-of-use tariff are left out.
    Months without interval readings are left out of the result.
    """
    tou = _tou_contracts(contracts)
    tariffs = sorted({c.tariff.name for c in tou})
    if not tou or not months:
        return TouBreakdown(tariffs, [], [])
    held = _held_slots(tou, months[0], _next_month(months[-1]))
    used = {s.period for _site, _month, s in held}
    periods = [p.value for p in PERIOD_ORDER if p in used]
    windows = [(site_id, month, s.period, s.start, s.end) for site_id, month, s in held]
    by_month: dict[date, dict[str, Decimal]] = {}
    for _site_id, month, period, value in queries.tou_kwh_by_month(windows):
        figures = by_month.setdefault(month, dict.fromkeys(periods, Decimal(0)))
        figures[period] = figures.get(period, Decimal(0)) + kwh(value)
    result = [
        TouMonth(month, by_month[month], sum(by_month[month].values(), Decimal(0)))
        for month in months
        if month in by_month
    ]
    return TouBreakdown(tariffs, periods, result)


def tou_slots_of_day(contracts, day: date) -> list[Slot]:
    """The time-of-use slots of one local day over the contracts' held days (to label intervals)."""
    tou = _tou_contracts(contracts)
    if not tou:
        return []
    following = date.fromordinal(day.toordinal() + 1)
    # Part days count here: an interval is labelled by the hour it began in.
    return [s for _site, _month, s in _held_slots(tou, day, following, whole_days=False)]
