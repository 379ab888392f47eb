"""Notifications outbox: queue a message, deliver it, sweep up what is due, take receipts.

The rules: a message is written once per dedupe key, in the caller's transaction;
a worker claims it with a conditional UPDATE so no two workers send it at once;
a failed send is tried again with exponential backoff until it gives up; a row
left "sending" by a worker that died goes back to the queue after a lease. The
dedupe key travels to providers as an idempotency key, so a resend after a crash
between sending and recording it is dropped by the provider instead of reaching
the customer twice.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voltdesk.core.choices import Language
from voltdesk.core.services import UtilityNotConfigured, get_utility, log_action

from .channels import DeliveryError, Outgoing, get_driver
from .choices import Channel, MessageStatus, ReceiptStatus
from .models import Message

logger = logging.getLogger(__name__)

_TEMPLATE_CODE = re.compile(r"^[a-z0-9_]+$")


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
    if language not in Language.values:
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
) -> Message:
    """A checked and rendered outbox row, not yet saved (see ``queue_messages``).

    Raises ``NotificationError`` for an unknown channel, a missing or bad
    address, an unknown language or a bad template code.
    """
    if channel not in Channel.values:
        raise NotificationError(_("Unknown channel %(channel)r.") % {"channel": channel})
    address = _resolve_address(channel, customer, address)
    language = _resolve_language(customer, language)
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


def queue_messages(messages: list[Message]) -> int:
    """Queue many prepared messages at once, each once per dedupe key; returns how many.

    For batches (letters after a club evaluation, warnings to a whole area): one
    query per thousand keys for what is already queued and one bulk insert, where
    ``queue_message`` would take two round trips a message. A key queued at the
    same moment by someone else is skipped by the insert (``ON CONFLICT DO
    NOTHING``); delivery of the new rows starts after commit.
    """
    fresh: dict[str, Message] = {}
    for message in messages:
        fresh.setdefault(message.dedupe_key, message)
    keys = list(fresh)
    for i in range(0, len(keys), BULK):
        for key in Message.objects.filter(dedupe_key__in=keys[i : i + BULK]).values_list(
            "dedupe_key", flat=True
        ):
            fresh.pop(key, None)
    if not fresh:
        return 0
    created_at = timezone.now()
    with transaction.atomic():
        Message.objects.bulk_create(fresh.values(), batch_size=BULK, ignore_conflicts=True)
        keys = list(fresh)
        ids = []
        for i in range(0, len(keys), BULK):
            ids += Message.objects.filter(
                dedupe_key__in=keys[i : i + BULK], created_at__gte=created_at
            ).values_list("pk", flat=True)
        transaction.on_commit(lambda: [_enqueue(pk) for pk in ids])
    return len(ids)


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
    outgoing = Outgoing(
        reference=str(message.pk),
        idempotency_key=message.idempotency_key,
        address=message.address,
        language=message.language,
        subject=message.subject,
        body=message.body,
    )
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
    for message_id in due:
        _enqueue(message_id)
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
