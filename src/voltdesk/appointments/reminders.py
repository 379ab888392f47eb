"""The reminder the day before a visit, with the one-time notice of documents.

The beat task runs every hour; each run reminds the bookings of *tomorrow*
(utility's time zone) not yet reminded, during the day only
(``REMIND_FROM``–``REMIND_UNTIL`` local time, no SMS at night). For each
booking, in one transaction:

* a reminder (``appointment_reminder``: when, where, the reference, a link to
  the booking) by the booking's channel, in the booking's language;
* the one-time notice of the business (一次性告知书) by ``knowledge.notices.send_notice``:
  the documents to bring and the link to its PDF, in the same language;
* ``reminded_at`` set, so a second run, or a second worker, sends nothing again
  (rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it).

The notice is the kind's ``notice_key`` for households or ``business_notice_key``
for businesses when set, else the first published notice of that business.
"""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from voltdesk.core.services import get_utility, utility_held
from voltdesk.customers.choices import CustomerKind
from voltdesk.knowledge.choices import ArticleKind, ArticleStatus
from voltdesk.knowledge.models import Article
from voltdesk.notifications.services import NotificationError, prepare_message, queue_messages

from . import calendar
from .choices import BookingStatus
from .models import Booking, BusinessKind

logger = logging.getLogger(__name__)

REMIND_FROM = time(9)
REMIND_UNTIL = time(21)
BATCH = 200


def notice_for(kind: BusinessKind, customer=None, *, profile: str | None = None):
    """The published one-time notice for a booking of ``kind`` by ``customer`` (or None)."""
    profile = profile or get_utility().profile
    notices = Article.objects.filter(
        kind=ArticleKind.NOTICE,
        status=ArticleStatus.PUBLISHED,
        published_version__isnull=False,
        profile__in=["", profile],
    )
    business = getattr(customer, "kind", "") == CustomerKind.BUSINESS
    key = (kind.business_notice_key if business else "") or kind.notice_key
    if key:
        chosen = notices.filter(key=key).first()
        if chosen is not None:
            return chosen
    return notices.filter(business_kind=kind.code).order_by("key").first()


def booking_url(booking: Booking) -> str:
    from voltdesk.keyaccounts.portfolio import _public_url

    return _public_url(reverse("portal:appointment", args=[booking.reference]))


def reminder_payload(booking: Booking, zone: ZoneInfo) -> dict:
    """What the reminder says, formatted in the booking's language."""
    local = booking.starts_at.astimezone(zone)
    with translation.override(booking.language or None):
        return {
            "reference": booking.reference,
            "hall": booking.hall.name,
            "address": booking.hall.address,
            "hall_phone": booking.hall.phone,
            "kind": str(booking.kind.get_code_display()),
            "day": formats.date_format(local.date(), "DATE_FORMAT"),
            "time": local.strftime("%H:%M"),
            "link": booking_url(booking),
        }


def _due(day, zone):
    start, end = calendar.day_bounds(day, zone)
    return Booking.objects.filter(
        status=BookingStatus.BOOKED,
        reminded_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=end,
    )


def _reminder(booking: Booking, zone: ZoneInfo):
    """The booking's reminder, checked and rendered, not yet queued (or None: no address)."""
    try:
        return prepare_message(
            channel=booking.remind_by,
            template="appointment_reminder",
            payload=reminder_payload(booking, zone),
            dedupe_key=f"appointments:reminder:{booking.pk}",
            customer=booking.customer,
            language=booking.language or None,
        )
    except NotificationError as exc:
        logger.warning("booking %s: no reminder (%s)", booking.reference, exc)
        return None


def _send_notice(booking: Booking, notices: dict) -> None:
    from voltdesk.knowledge.notices import NoticeError, send_notice

    business = booking.customer.kind == CustomerKind.BUSINESS
    key = (booking.kind_id, business)
    if key not in notices:  # a handful of kinds: looked up once a run
        notices[key] = notice_for(booking.kind, booking.customer)
    article = notices[key]
    if article is None:
        logger.warning("booking %s: no published notice for %s", booking.reference, booking.kind)
        return
    try:
        send_notice(
            None,
            article,
            customer=booking.customer,
            channel=booking.remind_by,
            language=booking.language or None,
        )
    except NoticeError as exc:
        logger.warning("booking %s: notice not sent (%s)", booking.reference, exc.message)


def send_reminders(now: datetime | None = None) -> dict:
    """Remind tomorrow's visits not yet reminded; safe to run again and on several workers."""
    now = now or timezone.now()
    with utility_held():  # read once: every message asks for the zone and the utility's name
        return _send_reminders(now)


def _send_reminders(now: datetime) -> dict:
    zone = ZoneInfo(get_utility().time_zone)
    local = calendar.local_now(zone, now)
    if not (REMIND_FROM <= local.time() < REMIND_UNTIL):
        return {"reminded": 0, "failed": 0, "quiet_hours": True}
    tomorrow = local.date() + timedelta(days=1)
    reminded = failed = 0
    notices: dict = {}
    skip_locked = connection.features.has_select_for_update_skip_locked
    while True:
        with transaction.atomic():
            claimed = list(
                _due(tomorrow, zone)
                .select_for_update(skip_locked=skip_locked, of=("self",))
                .select_related("hall", "kind", "customer")
                .order_by("starts_at", "pk")[:BATCH]
            )
            if not claimed:
                break
            prepared = {booking.pk: _reminder(booking, zone) for booking in claimed}
            queue_messages([m for m in prepared.values() if m is not None])
            for booking in claimed:
                if prepared[booking.pk] is None:
                    failed += 1
                    continue
                _send_notice(booking, notices)
                reminded += 1
            # A booking whose reminder cannot go (no address) is not tried every hour.
            Booking.objects.filter(pk__in=[b.pk for b in claimed]).update(reminded_at=now)
    return {"reminded": reminded, "failed": failed, "quiet_hours": False}
