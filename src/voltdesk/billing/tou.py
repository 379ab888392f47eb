"""Time-of-use slots: which real UTC instants of a span fall in which season and period.

A tariff version prices local clock hours (seasons by calendar month, windows by
kind of day); readings are stored in UTC. Walking the span hour by hour in UTC
and asking each hour its local month, day and clock hour keeps daylight-saving
days right by construction: a local day then has 23 or 25 hours, and an hour
that the clocks skip never appears. Consecutive hours of the same season and
period become one slot, so a month has a few hundred slots, not 744 rows.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .choices import DayKind, TariffKind, TouPeriod

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    """A span [start, end) of UTC instants priced alike: one season and one period."""

    start: datetime
    end: datetime
    season: str
    period: str

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR


@dataclass(frozen=True)
class TouPlan:
    """What a version says about hours: season per month, period per (season, day kind, hour).

    Built once per version from its rows (``plan_of``) so slotting a month needs
    no query; tests build one by hand.
    """

    kind: str  # TariffKind
    season_of_month: dict[int, str]
    # (season, day kind) -> 24 periods, one per local clock hour.
    hours: dict[tuple[str, str], tuple[str, ...]]

    def period_at(self, season: str, day_kind: str, hour: int) -> str:
        periods = self.hours.get((season, day_kind))
        return periods[hour] if periods else TouPeriod.OFF_PEAK


def plan_of(version) -> TouPlan:
    """The plan of a TariffVersion: hours outside every window are off-peak."""
    kind = version.tariff.kind
    if kind != TariffKind.TIME_OF_USE:
        return TouPlan(kind, {}, {})
    season_of_month: dict[int, str] = {}
    hours: dict[tuple[str, str], list[str]] = {}
    for season in version.seasons.all():
        for month in season.months:
            season_of_month[int(month)] = season.name
        for window in season.windows.all():
            periods = hours.setdefault(
                (season.name, window.day_kind), [TouPeriod.OFF_PEAK.value] * 24
            )
            for hour in range(window.start_hour, window.end_hour):
                periods[hour] = window.period
    return TouPlan(kind, season_of_month, {k: tuple(v) for k, v in hours.items()})


class DayCalendar:
    """Kind of each local day by the utility's holiday calendar.

    Holidays are holidays; other days off (Israel's Friday and Saturday, China's
    Saturday and Sunday, China's days off in lieu) are weekends; China's make-up
    working days (调休) on a weekend are working days.
    """

    def __init__(self, country: str):
        self.country = country

    def kind(self, day: date) -> str:
        calendar = _calendar(self.country, day.year)
        if day in calendar:
            return DayKind.HOLIDAY
        if calendar.is_working_day(day):
            return DayKind.WORKDAY
        return DayKind.WEEKEND


@lru_cache(maxsize=64)
def _calendar(country: str, year: int):
    return holidays.country_holidays(country, years=year)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def slots(
    plan: TouPlan, date_from: date, date_to: date, tz: ZoneInfo, calendar: DayCalendar
) -> list[Slot]:
    """The slots of local dates [date_from, date_to) in UTC, merged where the price is the same.

    Flat and tiered versions: one slot of period ``all`` over the whole span.
    """
    start, end = local_midnight(date_from, tz), local_midnight(date_to, tz)
    if start >= end:
        return []
    if plan.kind != TariffKind.TIME_OF_USE:
        return [Slot(start, end, "", TouPeriod.ALL)]
    result: list[Slot] = []
    day_kinds: dict[date, str] = {}
    moment = start
    current: tuple[str, str] | None = None
    opened = start
    while moment < end:
        local = moment.astimezone(tz)
        day = local.date()
        kind = day_kinds.get(day)
        if kind is None:
            kind = day_kinds[day] = calendar.kind(day)
        season = plan.season_of_month.get(local.month, "")
        key = (season, plan.period_at(season, kind, local.hour))
        if key != current:
            if current is not None:
                result.append(Slot(opened, moment, *current))
            current, opened = key, moment
        moment += HOUR
    result.append(Slot(opened, end, *current))
    return result
