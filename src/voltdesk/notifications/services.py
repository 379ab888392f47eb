"""Notifications outbox: queue a message, deliver it, sweep up what is due, take receipts.

The rules: a message is written once per dedupe key, in the caller's transaction;
a worker claims it with a conditional UPDATE so no two workers send it at once;
a failed send is tried again with exponential backoff until it gives up; a row
left "sending" by a worker that died goes back to the queue after a lease. The
dedupe key travels to providers as an idempotency key, so a resend after a crash
between sending and recording it is dropped by the provider instead of reaching
the customer twice.
"""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voltdesk.core.choices import Language
from voltdesk.core.services import UtilityNotConfigured, get_utility, log_action

from .channels import DeliveryError, Outgoing, SendResult, get_driver
from .choices import Channel, MessageStatus, ReceiptStatus
from .models import Message

logger = logging.getLogger(__name__)

_TEMPLATE_CODE = re.compile(r"^[a-z0-9_]+$")
# Read once: an enum's ``values`` builds a new list on every access.
_CHANNELS = frozenset(Channel.values)
_LANGUAGES = frozenset(Language.values)


class NotificationError(ValueError):
    """A message that cannot be queued (unknown channel, no address, bad template code)."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    return int(_setting("NOTIFICATIONS_MAX_ATTEMPTS", 8))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base… after the 1st, 2nd, 3rd failure, capped."""
    base = float(_setting("NOTIFICATIONS_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("NOTIFICATIONS_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


# Rendering


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render_message(*, channel: str, template: str, language: str, context: dict) -> Rendered:
    """Render a template code for a channel in the recipient's language.

    E-mail uses ``notifications/<code>/subject.txt`` and ``body.txt``; SMS uses
    ``notifications/<code>/sms.txt``. The context holds the payload, plus the
    ``utility`` (its name and service line) unless the payload names its own.
    """
    if not _TEMPLATE_CODE.match(template or ""):
        raise NotificationError(_("Bad template code %(code)r.") % {"code": template})
    try:
        utility = get_utility()
    except UtilityNotConfigured:
        utility = None
    context = {"utility": utility, **context}
    prefix = f"notifications/{template}/"
    with translation.override(language):
        if channel == Channel.EMAIL:
            # A subject is one line whatever the template's line breaks.
            subject = " ".join(render_to_string(prefix + "subject.txt", context).split())
            body = render_to_string(prefix + "body.txt", context).strip() + "\n"
            return Rendered(subject=subject, body=body)
        if channel == Channel.SMS:
            return Rendered(subject="", body=render_to_string(prefix + "sms.txt", context).strip())
    raise NotificationError(_("Unknown channel %(channel)r.") % {"channel": channel})


class Stencils:
    """Render thousands of messages of one template that differ only in a few personal strings.

    The template is rendered once per language and *shape* (everything in the
    context except the personal strings: the event, the windows' times, which
    personal strings are empty) with markers in place of the personal strings;
    each message is then that stencil with the markers replaced, a few
    microseconds instead of a full render. The first message of every stencil is
    also rendered for real and compared: a template that does more with a
    personal string than print it (a filter, a test on its value, escaping)
    disagrees, and that shape is rendered in full from then on. Strings with a
    marker or an escapable character in them are always rendered in full.
    """

    _MARK = "\x00"
    _UNSAFE = re.compile(r"[\x00<>&'\"]")

    def __init__(self, channel: str, template: str):
        self.channel = channel
        self.template = template
        self._stencils: dict = {}  # key -> Rendered with markers, or None (render in full)
        self.full_renders = 0

    def render(
        self, *, language: str, shape, values: dict[str, str], build: Callable[[dict], dict]
    ) -> Rendered:
        """The message for ``build(values)``; ``shape`` is what else the context depends on."""
        if any(self._UNSAFE.search(v) for v in values.values() if v):
            return self._full(language, build(values))
        key = (language, shape, frozenset(k for k, v in values.items() if not v))
        if key not in self._stencils:
            markers = {k: (f"{self._MARK}{k}{self._MARK}" if v else "") for k, v in values.items()}
            stencil = self._full(language, build(markers))
            real = self._full(language, build(values))
            self._stencils[key] = stencil if self._fill(stencil, values) == real else None
            return real
        stencil = self._stencils[key]
        if stencil is None:
            return self._full(language, build(values))
        return self._fill(stencil, values)

    def _full(self, language: str, context: dict) -> Rendered:
        self.full_renders += 1
        return render_message(
            channel=self.channel, template=self.template, language=language, context=context
        )

    def _fill(self, stencil: Rendered, values: dict[str, str]) -> Rendered:
        return Rendered(
            subject=self._put(stencil.subject, values), body=self._put(stencil.body, values)
        )

    def _put(self, text: str, values: dict[str, str]) -> str:
        if self._MARK not in text:
            return text
        # Split on the marks: odd pieces are the names of the personal strings.
        parts = text.split(self._MARK)
        parts[1::2] = [values.get(name, name) for name in parts[1::2]]
        return "".join(parts)


# Queueing


def _resolve_address(channel: str, customer, address: str | None) -> str:
    if not address and customer is not None:
        address = customer.email if channel == Channel.EMAIL else customer.phone
    if not address:
        raise NotificationError(
            _("No %(channel)s address for this recipient.") % {"channel": channel}
        )
    if channel == Channel.EMAIL:
        try:
            validate_email(address)
        except ValidationError as exc:
            raise NotificationError(_("Bad e-mail address %(a)r.") % {"a": address}) from exc
        return address
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException as exc:
        raise NotificationError(_("Bad phone number %(a)r.") % {"a": address}) from exc
    # "Possible", not "valid": numbering plans change faster than the library's
    # metadata, and the gateway has the last word on whether a number is reachable.
    if not phonenumbers.is_possible_number(number):
        raise NotificationError(_("Bad phone number %(a)r.") % {"a": address})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _resolve_language(customer, language: str | None) -> str:
    language = language or getattr(customer, "language", "")
    if not language:
        try:
            language = get_utility().default_language
        except UtilityNotConfigured:
            language = settings.LANGUAGE_CODE
    if language not in _LANGUAGES:
        raise NotificationError(_("Unknown language %(lang)r.") % {"lang": language})
    return language


def prepare_message(
    *,
    channel: str,
    template: str,
    payload: dict,
    dedupe_key: str,
    customer=None,
    address: str | None = None,
    language: str | None = None,
    render: Callable[[str], Rendered] | None = None,
) -> Message:
    """A checked and rendered outbox row, not yet saved (see ``queue_messages``).

    Raises ``NotificationError`` for an unknown channel, a missing or bad
    address, an unknown language or a bad template code. ``render(language)``,
    when given, renders instead of ``render_message`` (a batch's ``Stencils``).
    """
    if channel not in _CHANNELS:
        raise NotificationError(_("Unknown channel %(channel)r.") % {"channel": channel})
    address = _resolve_address(channel, customer, address)
    language = _resolve_language(customer, language)
    if render is not None:
        rendered = render(language)
    else:
        rendered = render_message(
            channel=channel, template=template, language=language, context=payload
        )
    return Message(
        dedupe_key=dedupe_key,
        customer=customer,
        address=address,
        channel=channel,
        language=language,
        template=template,
        payload=payload,
        subject=rendered.subject,
        body=rendered.body,
        next_attempt_at=timezone.now(),
    )


def queue_message(
    *,
    channel: str,
    template: str,
    payload: dict,
    dedupe_key: str,
    customer=None,
    address: str | None = None,
    language: str | None = None,
) -> Message:
    """Put a message in the outbox, once per ``dedupe_key``; delivery starts after commit.

    Call it inside the transaction of the change that causes the message, so both
    happen or neither. A second call with the same key returns the first row and
    queues nothing. The address defaults to the customer's e-mail or phone, the
    language to the customer's, else the utility's default. The message is
    rendered now, so template errors surface to the caller, not to a worker.
    """
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    prepared = prepare_message(
        channel=channel,
        template=template,
        payload=payload,
        dedupe_key=dedupe_key,
        customer=customer,
        address=address,
        language=language,
    )
    fields = {
        f.name: getattr(prepared, f.name)
        for f in Message._meta.concrete_fields
        if not f.primary_key and f.name != "dedupe_key"
    }
    with transaction.atomic():
        # get_or_create settles a race on the unique key: the loser gets the winner's row.
        message, created = Message.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
        if created:
            transaction.on_commit(lambda: _enqueue(message.pk))
    return message


BULK = 1000


def delivery_batch_size() -> int:
    return int(_setting("NOTIFICATIONS_DELIVERY_BATCH", 500))


def queue_messages(messages: list[Message]) -> int:
    """Queue many prepared messages at once, each once per dedupe key; returns how many.

    For batches (letters after a club evaluation, warnings to a whole area). On
    PostgreSQL one ``INSERT ... SELECT FROM jsonb_to_recordset(...) ON CONFLICT DO NOTHING
    RETURNING id`` per few thousand rows: what is already queued is skipped by the
    unique key, and the ids returned are exactly the new rows. Elsewhere a lookup
    of the known keys and a bulk insert. Delivery of the new rows starts after
    commit, a delivery batch (``deliver_batch``) per few hundred messages.
    """
    fresh: dict[str, Message] = {}
    for message in messages:
        fresh.setdefault(message.dedupe_key, message)
    if not fresh:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            ids = _insert_returning_ids(list(fresh.values()))
        else:
            ids = _insert_portably(fresh)
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return len(ids)


_COLUMNS = [
    # (column, type, value of a prepared message)
    ("customer_id", "bigint", lambda m: m.customer_id),
    ("address", "text", lambda m: m.address),
    ("channel", "text", lambda m: m.channel),
    ("language", "text", lambda m: m.language),
    ("template", "text", lambda m: m.template),
    ("payload", "jsonb", lambda m: m.payload),
    ("subject", "text", lambda m: m.subject),
    ("body", "text", lambda m: m.body),
    ("dedupe_key", "text", lambda m: m.dedupe_key),
    ("status", "text", lambda m: m.status),
    ("next_attempt_at", "timestamptz", lambda m: m.next_attempt_at),
]
_CONSTANTS = {
    "attempts": "0",
    "last_error": "''",
    "sending_since": "NULL",
    "driver": "''",
    "provider_message_id": "''",
    "sent_at": "NULL",
    "delivered_at": "NULL",
}
INSERT_BATCH = 5000


def _insert_returning_ids(messages: list[Message]) -> list[int]:
    """The rows travel as one JSON document per few thousand (``jsonb_to_recordset``).

    One text parameter that the C JSON encoder writes, where arrays per column
    would be adapted element by element by the driver in Python.
    """
    table = Message._meta.db_table
    names = [c for c, _t, _v in _COLUMNS]
    # Only the model's own table and column names are spliced in; the rows are a parameter.
    sql = (
        f"INSERT INTO {table} ({', '.join(names + list(_CONSTANTS) + ['created_at'])}) "  # noqa: S608
        f"SELECT {', '.join([f't.{c}' for c in names] + list(_CONSTANTS.values()) + ['%s'])} "
        f"FROM jsonb_to_recordset(%s::jsonb) "
        f"AS t({', '.join(f'{c} {t}' for c, t, _v in _COLUMNS)}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    now = timezone.now()
    ids: list[int] = []
    with connection.cursor() as cursor:
        for i in range(0, len(messages), INSERT_BATCH):
            rows = [
                {c: value(m) for c, _t, value in _COLUMNS} for m in messages[i : i + INSERT_BATCH]
            ]
            cursor.execute(sql, [now, json.dumps(rows, cls=DjangoJSONEncoder)])
            ids += [row[0] for row in cursor.fetchall()]
    return ids


def _insert_portably(fresh: dict[str, Message]) -> list[int]:
    keys = list(fresh)
    for i in range(0, len(keys), BULK):
        for key in Message.objects.filter(dedupe_key__in=keys[i : i + BULK]).values_list(
            "dedupe_key", flat=True
        ):
            fresh.pop(key, None)
    if not fresh:
        return []
    created_at = timezone.now()
    Message.objects.bulk_create(fresh.values(), batch_size=BULK, ignore_conflicts=True)
    keys = list(fresh)
    ids = []
    for i in range(0, len(keys), BULK):
        ids += Message.objects.filter(
            dedupe_key__in=keys[i : i + BULK], created_at__gte=created_at
        ).values_list("pk", flat=True)
    return ids


def enqueue_deliveries(message_ids: list[int], countdown: float | None = None) -> None:
    """One delivery task per batch of ids; a lone message keeps its own task."""
    if len(message_ids) == 1:
        _enqueue(message_ids[0], countdown)
        return
    from .tasks import deliver_messages

    size = delivery_batch_size()
    for i in range(0, len(message_ids), size):
        deliver_messages.apply_async((list(message_ids[i : i + size]),), countdown=countdown)


def _enqueue(message_id: int, countdown: float | None = None) -> None:
    # Imported here: tasks import this module.
    from .tasks import deliver_message

    deliver_message.apply_async((message_id,), countdown=countdown)


# Delivering


@dataclass(frozen=True)
class DeliveryResult:
    """What ``deliver`` did: ``sent``, ``retry`` (at ``retry_at``), ``failed`` or ``skipped``."""

    message_id: int
    outcome: str
    retry_at: datetime | None = None


def deliver(message_id: int) -> DeliveryResult:
    """Send one queued, due message through its channel's driver.

    Skipped (and harmless) when the message is not queued or not yet due: another
    worker has it, it is done, or a duplicate task arrived early. The claim counts
    as an attempt, so a message that kills its worker every time still gives up.
    """
    now = timezone.now()
    claimed = (
        Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=MessageStatus.SENDING, sending_since=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return DeliveryResult(message_id, "skipped")
    message = Message.objects.get(pk=message_id)
    driver = get_driver(message.channel)
    outgoing = _outgoing(message)
    # No transaction is open here: a slow provider must not hold database locks.
    try:
        result = driver.send(outgoing)
    except DeliveryError as exc:
        return _record_failure(message, driver.name, now, str(exc), permanent=exc.permanent)
    except Exception as exc:
        # A driver bug must not leave the row "sending" until the lease runs out.
        logger.exception("driver %s crashed on message %s", driver.name, message_id)
        return _record_failure(message, driver.name, now, repr(exc), permanent=False)
    # QUEUED too: if the lease ran out mid-send, the send still happened.
    Message.objects.filter(
        pk=message_id, status__in=[MessageStatus.SENDING, MessageStatus.QUEUED]
    ).update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        provider_message_id=result.provider_message_id,
        driver=driver.name,
        last_error="",
        sending_since=None,
        next_attempt_at=None,
    )
    return DeliveryResult(message_id, "sent")


def _record_failure(
    message: Message, driver_name: str, claimed_at: datetime, error: str, *, permanent: bool
) -> DeliveryResult:
    now = timezone.now()
    give_up = permanent or message.attempts >= max_attempts()
    if give_up:
        changes = {"status": MessageStatus.FAILED, "next_attempt_at": None}
        outcome, retry_at = "failed", None
    else:
        retry_at = now + retry_delay(message.attempts)
        changes = {"status": MessageStatus.QUEUED, "next_attempt_at": retry_at}
        outcome = "retry"
    # Fenced on our claim: if the lease ran out and someone else took over, leave it to them.
    Message.objects.filter(
        pk=message.pk, status=MessageStatus.SENDING, sending_since=claimed_at
    ).update(last_error=error[:2000], driver=driver_name, sending_since=None, **changes)
    logger.warning(
        "message %s attempt %s failed (%s): %s", message.pk, message.attempts, outcome, error
    )
    return DeliveryResult(message.pk, outcome, retry_at)


@dataclass(frozen=True)
class BatchResult:
    """What ``deliver_batch`` did, by outcome; ``retry_at`` is the earliest retry."""

    sent: int = 0
    retry: tuple[int, ...] = ()
    failed: int = 0
    skipped: int = 0
    retry_at: datetime | None = None


def _claim(message_ids, now: datetime) -> list[Message]:
    """Take the queued, due ones among ``message_ids`` for this worker.

    On PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` then the UPDATE, in one
    transaction: two workers handed the same ids split them instead of waiting
    for each other. Without row locks (SQLite) the fenced UPDATE alone is the
    claim: it takes the write lock at once (a read first would have to upgrade
    it, which SQLite refuses under contention). Either way the rows read back are
    those stamped with this claim's time, so each row is claimed once.
    """
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    queued = Message.objects.filter(due, pk__in=list(message_ids), status=MessageStatus.QUEUED)
    claim = {"status": MessageStatus.SENDING, "sending_since": now, "attempts": F("attempts") + 1}
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(queued.select_for_update(skip_locked=True).values_list("pk", flat=True))
            if not ids:
                return []
            Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(**claim)
    else:
        ids = list(message_ids)
        if not queued.update(**claim):
            return []
    return list(
        Message.objects.filter(pk__in=ids, status=MessageStatus.SENDING, sending_since=now).only(
            "pk", "channel", "address", "language", "subject", "body", "dedupe_key", "attempts"
        )
    )


def _outgoing(message: Message) -> Outgoing:
    """What a driver is handed: the message, its reference and its idempotency key."""
    return Outgoing(
        reference=str(message.pk),
        idempotency_key=message.idempotency_key,
        address=message.address,
        language=message.language,
        subject=message.subject,
        body=message.body,
    )


def _send_all(driver, messages: list[Message]) -> list:
    """The driver's answer for each message: a ``SendResult`` or the ``DeliveryError``."""
    outgoing = [_outgoing(m) for m in messages]
    send_batch = getattr(driver, "send_batch", None)
    try:
        if send_batch is not None:
            return send_batch(outgoing)
    except DeliveryError as exc:
        return [exc] * len(messages)
    except Exception as exc:
        logger.exception("driver %s crashed on a batch of %d", driver.name, len(messages))
        return [DeliveryError(repr(exc))] * len(messages)
    results = []
    for item in outgoing:
        try:
            results.append(driver.send(item))
        except DeliveryError as exc:
            results.append(exc)
        except Exception as exc:
            logger.exception("driver %s crashed on message %s", driver.name, item.reference)
            results.append(DeliveryError(repr(exc)))
    return results


def deliver_batch(message_ids) -> BatchResult:
    """Send many queued, due messages: one claim, one gateway request, one UPDATE per outcome.

    The rules are ``deliver``'s: ids not queued or not yet due are skipped (another
    worker has them, or they are done), the claim counts as an attempt, a
    temporary failure comes back after its backoff, a permanent one or the last
    attempt fails the message. Drivers with ``send_batch`` (the SMS gateway) take
    the whole batch in one request; the others are sent one by one. No
    transaction is open while the provider works.
    """
    now = timezone.now()
    claimed = _claim(message_ids, now)
    skipped = len(set(message_ids)) - len(claimed)
    by_channel: dict[str, list[Message]] = {}
    for message in claimed:
        by_channel.setdefault(message.channel, []).append(message)
    sent, failed, retry, retry_at = 0, 0, [], None
    for channel, messages in by_channel.items():
        driver = get_driver(channel)
        results = _send_all(driver, messages)
        done = [(m, r) for m, r in zip(messages, results, strict=True) if isinstance(r, SendResult)]
        sent += _record_sent(done, driver.name)
        # Failures grouped by what is written, so an outage costs a few UPDATEs, not one a row.
        groups: dict[tuple, list[int]] = {}
        for message, result in zip(messages, results, strict=True):
            if isinstance(result, SendResult):
                continue
            give_up = result.permanent or message.attempts >= max_attempts()
            when = None if give_up else now + retry_delay(message.attempts)
            groups.setdefault((give_up, when, str(result)), []).append(message.pk)
        for (give_up, when, error), ids in groups.items():
            changes = (
                {"status": MessageStatus.FAILED, "next_attempt_at": None}
                if give_up
                else {"status": MessageStatus.QUEUED, "next_attempt_at": when}
            )
            Message.objects.filter(
                pk__in=ids, status=MessageStatus.SENDING, sending_since=now
            ).update(last_error=error[:2000], driver=driver.name, sending_since=None, **changes)
            logger.warning(
                "%d messages failed (%s): %s", len(ids), "failed" if give_up else "retry", error
            )
            if give_up:
                failed += len(ids)
            else:
                retry += ids
                retry_at = when if retry_at is None else min(retry_at, when)
    return BatchResult(sent, tuple(retry), failed, skipped, retry_at)


def _record_sent(done: list[tuple[Message, SendResult]], driver_name: str) -> int:
    """One UPDATE for the batch: each row gets its own provider id."""
    if not done:
        return 0
    if connection.vendor == "postgresql":
        table = Message._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} m SET status = %s, sent_at = %s, driver = %s, "  # noqa: S608
                "provider_message_id = v.provider_id, last_error = '', sending_since = NULL, "
                "next_attempt_at = NULL "
                "FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, provider_id text) "
                "WHERE m.id = v.id AND m.status IN (%s, %s)",
                [
                    MessageStatus.SENT,
                    timezone.now(),
                    driver_name,
                    json.dumps(
                        [{"id": m.pk, "provider_id": r.provider_message_id} for m, r in done]
                    ),
                    MessageStatus.SENDING,
                    # QUEUED too: if the lease ran out mid-send, the send still happened.
                    MessageStatus.QUEUED,
                ],
            )
        return len(done)
    provider_ids = Case(
        *[When(pk=m.pk, then=Value(r.provider_message_id)) for m, r in done],
        output_field=CharField(),
    )
    # QUEUED too: if the lease ran out mid-send, the send still happened.
    Message.objects.filter(
        pk__in=[m.pk for m, _r in done], status__in=[MessageStatus.SENDING, MessageStatus.QUEUED]
    ).update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_ids,
        driver=driver_name,
        last_error="",
        sending_since=None,
        next_attempt_at=None,
    )
    return len(done)


def dispatch_due(
    *,
    now: datetime | None = None,
    lease: timedelta | None = None,
    grace: timedelta | None = None,
    limit: int | None = None,
) -> int:
    """Re-enqueue what fell through the cracks; run it every minute (Celery beat).

    - A row "sending" for longer than the lease belongs to a worker that died: it
      goes back to the queue (or fails, if it is out of attempts).
    - A queued row due for longer than ``grace`` lost its task (a broker restart,
      a worker killed with its prefetched tasks): it is enqueued again.
    Duplicated tasks are harmless; ``deliver`` claims each message once.
    Returns how many messages were enqueued.
    """
    now = now or timezone.now()
    lease = (
        lease
        if lease is not None
        else timedelta(seconds=float(_setting("NOTIFICATIONS_SENDING_LEASE_SECONDS", 300)))
    )
    grace = (
        grace
        if grace is not None
        else timedelta(seconds=float(_setting("NOTIFICATIONS_DISPATCH_GRACE_SECONDS", 60)))
    )
    limit = limit or int(_setting("NOTIFICATIONS_DISPATCH_BATCH", 1000))
    expired = Message.objects.filter(status=MessageStatus.SENDING, sending_since__lt=now - lease)
    expired.filter(attempts__gte=max_attempts()).update(
        status=MessageStatus.FAILED,
        sending_since=None,
        next_attempt_at=None,
        last_error=_("Delivery lease expired and no attempts are left."),
    )
    reclaimed = list(expired.order_by("sending_since").values_list("pk", flat=True)[:limit])
    expired.filter(pk__in=reclaimed).update(
        status=MessageStatus.QUEUED,
        sending_since=None,
        next_attempt_at=now,
        last_error=_("Delivery lease expired: the worker was lost."),
    )
    stale = list(
        Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now - grace)
        .exclude(pk__in=reclaimed)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: max(0, limit - len(reclaimed))]
    )
    # Restart the grace period, so one lost task is not re-enqueued every minute.
    Message.objects.filter(pk__in=stale, status=MessageStatus.QUEUED).update(next_attempt_at=now)
    due = reclaimed + stale
    enqueue_deliveries(due)
    return len(due)


# Receipts and staff actions


def record_sms_receipt(
    *, provider_message_id: str, reference: str, status: str, error: str = ""
) -> Message | None:
    """Apply a gateway's delivery receipt; ``None`` when the message is unknown.

    Receipts may come before our own "sent" is recorded and may come twice, so
    the change is conditional: delivered is final, a failure never undoes it.
    """
    lookup = Q(provider_message_id=provider_message_id) if provider_message_id else Q(pk=None)
    if reference.isdigit():
        lookup = Q(pk=int(reference))
    message = Message.objects.filter(lookup, channel=Channel.SMS).first()
    if message is None:
        return None
    now = timezone.now()
    if status == ReceiptStatus.DELIVERED:
        Message.objects.filter(pk=message.pk).exclude(status=MessageStatus.DELIVERED).update(
            status=MessageStatus.DELIVERED,
            delivered_at=now,
            sent_at=Coalesce(F("sent_at"), now),
            provider_message_id=provider_message_id or F("provider_message_id"),
            sending_since=None,
            next_attempt_at=None,
            last_error="",
        )
    elif status == ReceiptStatus.FAILED:
        Message.objects.filter(
            pk=message.pk,
            status__in=[MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT],
        ).update(
            status=MessageStatus.FAILED,
            provider_message_id=provider_message_id or F("provider_message_id"),
            sending_since=None,
            next_attempt_at=None,
            last_error=(_("Gateway receipt: %(error)s") % {"error": error or status})[:2000],
        )
    else:
        raise NotificationError(_("Unknown receipt status %(status)r.") % {"status": status})
    message.refresh_from_db()
    return message


@transaction.atomic
def requeue_messages(message_ids, *, actor=None) -> int:
    """Give failed messages a fresh set of attempts (staff, after fixing the cause)."""
    now = timezone.now()
    messages = list(
        Message.objects.select_for_update().filter(pk__in=message_ids, status=MessageStatus.FAILED)
    )
    for message in messages:
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, attempts=0, next_attempt_at=now
        )
        log_action(actor, "message.requeued", message, {"last_error": message.last_error})
        transaction.on_commit(lambda pk=message.pk: _enqueue(pk))
    return len(messages)
