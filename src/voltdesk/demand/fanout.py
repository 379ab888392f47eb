"""The warnings fan-out: every affected customer told in its language, once, by SMS and e-mail.

``warn_event`` cuts the affected customers into ranges of customer ids and
queues one Celery task per range (``tasks.warn_customer_range``); each range
reads its customers and their sites' shedding windows with two queries, renders
the personalised messages (a ``Stencils`` render per language and window shape,
the customer's own site references filled in), and writes them to the outbox
with the ``EventWarning`` rows in one transaction; after commit the outbox
delivers them in batches (``deliver_batch``), not a task per message. The outbox's dedupe key
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
from django.db import connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Q
from django.utils import timezone

from voltdesk.core.services import utility_held, utility_zone
from voltdesk.customers.models import Customer, Site
from voltdesk.keyaccounts.choices import MembershipStatus
from voltdesk.keyaccounts.models import Membership
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import (
    NotificationError,
    Stencils,
    prepare_message,
    queue_messages,
)

from .choices import EventStatus, WarningChannel
from .models import AffectedFeeder, DemandEvent, EventWarning, SheddingWindow
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


def _range_recipients(event: DemandEvent, lo: int, hi: int):
    """``_written_recipients`` in [lo, hi), driven by the id range.

    Written with EXISTS so the database walks the range's customers and looks
    their sites up by index, instead of reading every affected site of a
    million-customer event for each range.
    """
    feeders = AffectedFeeder.objects.filter(event=event).values("feeder_id")
    affected = Site.objects.filter(customer=OuterRef("pk"), feeder__in=feeders)
    member = Membership.objects.filter(customer=OuterRef("pk"), status=MembershipStatus.MEMBER)
    return Customer.objects.filter(Exists(affected), ~Exists(member), pk__gte=lo, pk__lt=hi)


def _windows_by_customer(event: DemandEvent, customer_ids) -> dict[int, list[dict]]:
    """Each customer's sites with their feeder's shedding windows, in time then site order.

    Two plain queries (the customers' sites by customer id, the event's windows by
    feeder) joined here: a join of windows, feeders and sites makes the database
    read every site of every affected feeder for each range of a large event.
    """
    windows_of_feeder: dict[int, list] = {}
    for feeder_id, starts_at, ends_at in SheddingWindow.objects.filter(event=event).values_list(
        "feeder_id", "starts_at", "ends_at"
    ):
        windows_of_feeder.setdefault(feeder_id, []).append((starts_at, ends_at))
    if not windows_of_feeder:
        return {}
    rows = []
    for customer_id, ref, address, feeder_id in Site.objects.filter(
        customer__in=list(customer_ids), feeder__in=list(windows_of_feeder)
    ).values_list("customer_id", "ref", "address", "feeder_id"):
        for starts_at, ends_at in windows_of_feeder[feeder_id]:
            rows.append((starts_at, ref, customer_id, address, ends_at))
    rows.sort(key=lambda r: (r[0], r[1]))
    out: dict[int, list[dict]] = {}
    for starts_at, ref, customer_id, address, ends_at in rows:
        out.setdefault(customer_id, []).append(
            {"site": ref, "address": address, "starts_at": starts_at, "ends_at": ends_at}
        )
    return out


def dedupe_key(event_id: int, customer_id: int, channel: str) -> str:
    return f"demand:{event_id}:{customer_id}:{channel}"


def _payload(event: DemandEvent, name: str, windows: list[dict]) -> dict:
    return {
        "name": name,
        "event_title": event.title,
        "event_kind": event.kind,
        "severity": event.severity,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "windows": windows,
        "event_id": event.pk,
    }


def _personal(customer, windows: list[dict]) -> dict[str, str]:
    """What differs from one customer to the next in a warning: its name and its sites."""
    values = {"name": customer.name or ""}
    for i, w in enumerate(windows):
        values[f"site{i}"] = w["site"] or ""
        values[f"address{i}"] = w["address"] or ""
    return values


def _builder(event: DemandEvent, windows: list[dict]):
    def build(values: dict[str, str]) -> dict:
        personal = [
            {**w, "site": values[f"site{i}"], "address": values[f"address{i}"]}
            for i, w in enumerate(windows)
        ]
        return _payload(event, values["name"], personal)

    return build


def _prepare(event: DemandEvent, customers, windows_of) -> list[Message]:
    messages = []
    stencils = {channel: Stencils(channel, TEMPLATE) for channel in (Channel.SMS, Channel.EMAIL)}
    # Times in the messages are the utility's local times; the utility is read once.
    with utility_held(), timezone.override(utility_zone()):
        for customer in customers:
            windows = windows_of.get(customer.pk, [])
            values = _personal(customer, windows)
            build = _builder(event, windows)
            shape = tuple((w["starts_at"], w["ends_at"]) for w in windows)
            for channel, address in (
                (Channel.SMS, customer.phone),
                (Channel.EMAIL, customer.email),
            ):
                if not address:
                    continue

                def render(language, channel=channel, values=values, build=build, shape=shape):
                    return stencils[channel].render(
                        language=language, shape=shape, values=values, build=build
                    )

                try:
                    messages.append(
                        prepare_message(
                            channel=channel,
                            template=TEMPLATE,
                            payload=build(values),
                            dedupe_key=dedupe_key(event.pk, customer.pk, channel),
                            customer=customer,
                            render=render,
                        )
                    )
                except NotificationError:
                    # A bad phone or e-mail on file: the other channel still goes; the
                    # customer shows as not warned by this channel in the event report.
                    continue
    return messages


def _record(event: DemandEvent, messages: list[Message]) -> int:
    """Queue the messages and write one ``EventWarning`` per message, queued now or before."""
    queued = queue_messages(messages)
    keys = [m.dedupe_key for m in messages]
    if connection.vendor == "postgresql":
        # One INSERT ... SELECT: the warnings are read from the outbox rows, not built here.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {EventWarning._meta.db_table} "  # noqa: S608 - the models' tables
                "(event_id, customer_id, channel, message_id, created_at) "
                f"SELECT %s, customer_id, channel, id, %s FROM {Message._meta.db_table} "
                "WHERE dedupe_key = ANY(%s) ON CONFLICT DO NOTHING",
                [event.pk, timezone.now(), keys],
            )
        return queued
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
        _range_recipients(event, lo, hi).only("pk", "name", "phone", "email", "language")
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
