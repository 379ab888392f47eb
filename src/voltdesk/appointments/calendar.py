"""When a hall is open, and its slots: computed from the hours and the calendar, never stored.

A day's hours, in the utility's time zone:

* a hall closure (``HallClosure``) closes the hall that day;
* a public holiday of the profile's calendar (the ``holidays`` package), or a
  day off it moved there (China's 调休: 2026-10-06 for the Sunday 2026-09-20),
  closes it;
* a make-up working day that falls on a weekend (2026-09-20, a Sunday) opens it
  with its *working-day hours*: the hours of its first weekday (Monday first)
  that is no weekend day in the calendar;
* any other day has the hours set for its weekday (none: closed).

Slots follow each other from the opening time, ``slot_minutes`` long, as long
as a whole slot fits before closing. What is taken comes from ``SlotCounter``
rows in one query for the whole range asked.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from voltdesk.core.services import get_utility

from .models import HallClosure, OpeningHours, ServiceHall, SlotCounter

# A customer may book a slot up to this long before it starts.
MIN_NOTICE = timedelta(hours=1)
# The longest range one search may cover (a page of two months).
MAX_SEARCH_DAYS = 62


@lru_cache(maxsize=8)
def holiday_calendar(country: str):
    return holidays.country_holidays(country)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, in the utility's zone
    ends_at: datetime
    capacity: int
    taken: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.taken)


@dataclass
class HallWeek:
    """A hall's hours by weekday and its closures: read once, used for every day."""

    hall: ServiceHall
    hours: dict  # weekday -> [(opens, closes)]
    closed: set
    calendar: object
    zone: ZoneInfo

    def working_day_hours(self) -> list:
        for weekday in range(7):
            if weekday not in self.calendar.weekend and self.hours.get(weekday):
                return self.hours[weekday]
        return []

    def spans(self, day: date) -> list:
        """The hall's opening spans on ``day`` (local), empty when closed."""
        if day in self.closed:
            return []
        weekend = day.weekday() in self.calendar.weekend
        working = self.calendar.is_working_day(day)
        if not working and (day in self.calendar):
            return []  # a public holiday or a day off moved there
        if weekend and working:
            return self.working_day_hours()  # a make-up working day
        return self.hours.get(day.weekday(), [])

    def slot_starts(self, day: date) -> list[datetime]:
        length = timedelta(minutes=self.hall.slot_minutes)
        starts = []
        for opens, closes in self.spans(day):
            at = datetime.combine(day, opens, tzinfo=self.zone)
            end = datetime.combine(day, closes, tzinfo=self.zone)
            while at + length <= end:
                starts.append(at)
                at += length
        return starts


def hall_week(hall: ServiceHall, date_from: date, date_to: date) -> HallWeek:
    utility = get_utility()
    hours: dict[int, list] = {}
    for span in OpeningHours.objects.filter(hall=hall).order_by("weekday", "opens"):
        hours.setdefault(span.weekday, []).append((span.opens, span.closes))
    closed = set(
        HallClosure.objects.filter(hall=hall, day__gte=date_from, day__lte=date_to).values_list(
            "day", flat=True
        )
    )
    return HallWeek(
        hall=hall,
        hours=hours,
        closed=closed,
        calendar=holiday_calendar(utility.holiday_country),
        zone=ZoneInfo(utility.time_zone),
    )


def local_now(zone: ZoneInfo, now: datetime | None = None) -> datetime:
    from django.utils import timezone

    return (now or timezone.now()).astimezone(zone)


def hall_slots(
    hall: ServiceHall, date_from: date, date_to: date, *, now: datetime | None = None
) -> list[Slot]:
    """Every slot of the hall from ``date_from`` to ``date_to`` (inclusive) still bookable.

    A slot is bookable when it starts at least ``MIN_NOTICE`` from now and its day
    is within the hall's ``horizon_days``; full slots are listed with ``free`` 0.
    """
    week = hall_week(hall, date_from, date_to)
    current = local_now(week.zone, now)
    earliest = current + MIN_NOTICE
    last_day = min(date_to, current.date() + timedelta(days=hall.horizon_days))
    starts = []
    day = max(date_from, current.date())
    while day <= last_day:
        starts += [s for s in week.slot_starts(day) if s >= earliest]
        day += timedelta(days=1)
    if not starts:
        return []
    taken = dict(
        SlotCounter.objects.filter(
            hall=hall, starts_at__gte=starts[0], starts_at__lte=starts[-1]
        ).values_list("starts_at", "taken")
    )
    length = timedelta(minutes=hall.slot_minutes)
    return [
        Slot(
            starts_at=s,
            ends_at=s + length,
            capacity=hall.capacity,
            taken=taken.get(s, 0),
        )
        for s in starts
    ]


def free_slots(hall, date_from: date, date_to: date, *, now=None) -> list[Slot]:
    """The slots of ``hall_slots`` that still have a place."""
    return [s for s in hall_slots(hall, date_from, date_to, now=now) if s.free > 0]


def open_days(hall, date_from: date, date_to: date) -> list[date]:
    """The days the hall opens in the range (for the day picker)."""
    week = hall_week(hall, date_from, date_to)
    days, day = [], date_from
    while day <= date_to:
        if week.spans(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def is_slot(hall, starts_at: datetime) -> bool:
    """Whether ``starts_at`` is the start of one of the hall's slots on its day."""
    zone = ZoneInfo(get_utility().time_zone)
    local = starts_at.astimezone(zone)
    week = hall_week(hall, local.date(), local.date())
    return local in week.slot_starts(local.date())


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start of ``day`` and of the next day in ``zone``."""
    return (
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )
