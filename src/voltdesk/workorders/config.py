"""The desk's configuration as each process holds it: queues, commitments, the calendar.

Intake reads the active queues, the active service commitments and the
utility's country, time zone and holiday calendar on every order. They are
rows the administrator edits a few times a year, so each process keeps them
for at most ``TTL`` seconds instead of querying them per order:

* a change made in this process (the admin, ``ensure_default_policies``) is
  seen at once: saving or deleting a queue, a policy or the utility forgets
  the copy (``apps.WorkordersConfig.ready`` connects ``forget``);
* other processes (the other gunicorn workers, Celery) see it within ``TTL``.

Which agents sit in a queue, their loads and availability are never held
here: assignment reads them fresh (``routing.least_loaded_agent``).
"""

import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from voltdesk.core.services import get_utility

from .models import Queue, SlaPolicy

# Long enough to spare the queries on a busy desk, short enough that an
# administrator's edit reaches every worker while they are still looking at it.
TTL = 30.0


@dataclass(frozen=True)
class DeskConfig:
    queues: tuple[Queue, ...]  # active, highest rank first
    policies: dict[str, tuple[SlaPolicy, ...]]  # active, by order type
    country: str
    holiday_country: str
    zone: ZoneInfo
    expires: float


_held: DeskConfig | None = None


def current() -> DeskConfig:
    """The configuration, read from the database at most every ``TTL`` seconds."""
    global _held
    held = _held
    now = time.monotonic()
    if held is not None and now < held.expires:
        return held
    utility = get_utility()
    policies: dict[str, list[SlaPolicy]] = {}
    for policy in SlaPolicy.objects.filter(active=True):
        policies.setdefault(policy.order_type, []).append(policy)
    held = DeskConfig(
        queues=tuple(Queue.objects.filter(active=True)),
        policies={kind: tuple(rows) for kind, rows in policies.items()},
        country=utility.country,
        holiday_country=utility.holiday_country,
        zone=ZoneInfo(utility.time_zone),
        expires=now + TTL,
    )
    _held = held
    return held


def forget(**_signal) -> None:
    """Drop the held copy: the next order reads the configuration again."""
    global _held
    _held = None
