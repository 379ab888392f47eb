"""Local days and months of the utility as UTC instants.

Consumption is counted per local day and month; readings are stored in UTC.
Turning each local boundary into a UTC instant once, here, lets the queries
compare plain timestamps and keeps daylight-saving days right (a local day is
23 or 25 hours long when the clocks change).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    """A span of local time [start, end) as UTC instants, labelled by its local month."""

    month: date
    start: datetime
    end: datetime


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def last_local_date(end: datetime, tz: ZoneInfo) -> date:
    """The local day holding the last instant before an exclusive ``end``."""
    return (end - timedelta(microseconds=1)).astimezone(tz).date()


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_windows(date_from: date, date_to: date, tz: ZoneInfo) -> list[Window]:
    """Local months overlapping [date_from, date_to), each clipped to that range."""
    windows = []
    month = first_of_month(date_from)
    while month < date_to:
        following = next_month(month)
        lo, hi = max(month, date_from), min(following, date_to)
        windows.append(Window(month, local_midnight(lo, tz), local_midnight(hi, tz)))
        month = following
    return windows
