"""The warnings fan-out: every affected customer told in its language, once, by SMS and e-mail.

``warn_event`` cuts the affected customers into ranges of customer ids and
queues one Celery task per range (``tasks.warn_customer_range``); each range
reads its customers and their sites' shedding windows with two queries, renders
the personalised messages, and writes them to the outbox with the
``EventWarning`` rows in one transaction. The outbox's dedupe key
(``demand:<event>:<customer>:<channel>``) makes a range safe to run twice: a
worker that dies halfway leaves its task unacknowledged (``acks_late``), the
broker hands it to another worker, and what the first one committed is
skipped, so nothing is lost and nothing is sent twice.

Club members are not in the fan-out: their account manager calls them first
(``services``), and ``warn_members`` sends them the written warning once the
call is recorded.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from voltdesk.core.services import utility_zone
from voltdesk.customers.models import Customer
from voltdesk.keyaccounts.choices import MembershipStatus
from voltdesk.keyaccounts.models import Membership
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import NotificationError, prepare_message, queue_messages

from .choices import EventStatus, WarningChannel
from .models import DemandEvent, EventWarning, SheddingWindow
from .services import affected_customer_ids

RANGE = 2000  # customer ids per task: a few seconds of work, small enough to redo
TEMPLATE = "demand_warning"


@dataclass(frozen=True)
class FanoutPlan:
    event_id: int
    ranges: list[tuple[int, int]]


def range_size() -> int:
    return int(getattr(settings, "DEMAND_FANOUT_RANGE", RANGE))


def plan_ranges(event: DemandEvent) -> FanoutPlan:
    """Half-open id ranges covering the affected customers who are not club members."""
    bounds = _written_recipients(event).aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return FanoutPlan(event.pk, [])
    lo, hi, size = bounds["lo"], bounds["hi"] + 1, range_size()
    return FanoutPlan(event.pk, [(a, min(a + size, hi)) for a in range(lo, hi, size)])


def unfinished_ranges(event: DemandEvent) -> FanoutPlan:
    """The ranges that still hold a reachable customer without a written warning.

    A range whose task died with its worker shows up here; re-running it warns
    only those customers (the dedupe keys skip the rest). One GROUP BY.
    """
    plan = plan_ranges(event)
    if not plan.ranges:
        return plan
    lo, size = plan.ranges[0][0], range_size()
    warned = EventWarning.objects.filter(event=event).exclude(channel=WarningChannel.CALL)
    buckets = (
        _written_recipients(event)
        .filter(~Q(phone="") | ~Q(email=""))
        .exclude(pk__in=warned.values("customer_id"))
        .annotate(bucket=(F("pk") - lo) / size)
        .values_list("bucket", flat=True)
        .distinct()
    )
    starts = sorted(lo + int(b) * size for b in buckets)
    hi = plan.ranges[-1][1]
    return FanoutPlan(event.pk, [(a, min(a + size, hi)) for a in starts])


def _members():
    return Membership.objects.filter(status=MembershipStatus.MEMBER).values("customer_id")


def _written_recipients(event: DemandEvent):
    return Customer.objects.filter(pk__in=affected_customer_ids(event)).exclude(pk__in=_members())


def _windows_by_customer(event: DemandEvent, customer_ids) -> dict[int, list[dict]]:
    rows = (
        SheddingWindow.objects.filter(event=event, feeder__sites__customer__in=customer_ids)
        .values(
            "feeder__sites__customer_id",
            "feeder__sites__ref",
            "feeder__sites__address",
            "starts_at",
            "ends_at",
        )
        .order_by("starts_at", "feeder__sites__ref")
    )
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r["feeder__sites__customer_id"], []).append(
            {
                "site": r["feeder__sites__ref"],
                "address": r["feeder__sites__address"],
                "starts_at": r["starts_at"],
                "ends_at": r["ends_at"],
            }
        )
    return out


def dedupe_key(event_id: int, customer_id: int, channel: str) -> str:
    return f"demand:{event_id}:{customer_id}:{channel}"


def _payload(event: DemandEvent, customer, windows: list[dict]) -> dict:
    return {
        "name": customer.name,
        "event_title": event.title,
        "event_kind": event.kind,
        "severity": event.severity,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "windows": windows,
        "event_id": event.pk,
    }


def _prepare(event: DemandEvent, customers, windows_of) -> list[Message]:
    messages = []
    # Times in the messages are the utility's local times.
    with timezone.override(utility_zone()):
        for customer in customers:
            payload = _payload(event, customer, windows_of.get(customer.pk, []))
            for channel, address in (
                (Channel.SMS, customer.phone),
                (Channel.EMAIL, customer.email),
            ):
                if not address:
                    continue
                try:
                    messages.append(
                        prepare_message(
                            channel=channel,
                            template=TEMPLATE,
                            payload=payload,
                            dedupe_key=dedupe_key(event.pk, customer.pk, channel),
                            customer=customer,
                        )
                    )
                except NotificationError:
                    # A bad phone or e-mail on file: the other channel still goes; the
                    # customer shows as not warned by this channel in the event report.
                    continue
    return messages


def _record(event: DemandEvent, messages: list[Message]) -> int:
    queued = queue_messages(messages)
    keys = [m.dedupe_key for m in messages]
    rows = Message.objects.filter(dedupe_key__in=keys).values_list("pk", "customer_id", "channel")
    EventWarning.objects.bulk_create(
        [
            EventWarning(event=event, customer_id=customer_id, channel=channel, message_id=pk)
            for pk, customer_id, channel in rows
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return queued


def warn_range(event_id: int, lo: int, hi: int) -> int:
    """Warn the non-member affected customers with ids in [lo, hi); returns messages queued."""
    event = DemandEvent.objects.get(pk=event_id)
    if event.status != EventStatus.DECLARED:
        return 0
    customers = list(
        _written_recipients(event)
        .filter(pk__gte=lo, pk__lt=hi)
        .only("pk", "name", "phone", "email", "language")
    )
    if not customers:
        return 0
    windows_of = _windows_by_customer(event, [c.pk for c in customers])
    messages = _prepare(event, customers, windows_of)
    with transaction.atomic():
        return _record(event, messages)


def warn_members(event: DemandEvent, customer_ids) -> int:
    """The written warning for club members, after their manager's call."""
    customers = list(
        Customer.objects.filter(pk__in=customer_ids).only(
            "pk", "name", "phone", "email", "language"
        )
    )
    windows_of = _windows_by_customer(event, [c.pk for c in customers])
    messages = _prepare(event, customers, windows_of)
    with transaction.atomic():
        return _record(event, messages)


def mark_queued(event_id: int) -> None:
    DemandEvent.objects.filter(pk=event_id, warnings_queued_at__isnull=True).update(
        warnings_queued_at=timezone.now()
    )


def progress(event: DemandEvent) -> dict:
    """How far the fan-out is: customers to warn, warned, messages by outbox status."""
    to_warn = _written_recipients(event).count()
    warned = (
        EventWarning.objects.filter(event=event)
        .exclude(channel=WarningChannel.CALL)
        .values("customer_id")
        .distinct()
        .count()
    )
    return {"to_warn": to_warn, "warned": warned}
