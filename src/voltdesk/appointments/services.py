"""Booking a hall visit: book, cancel, reschedule, mark attended or no-show.

The rules:

* a booking takes one place in one of the hall's slots (``calendar``), at least
  ``MIN_NOTICE`` ahead and within the hall's horizon, for a business the hall
  offers;
* the place is held by a conditional UPDATE on the slot's counter
  (``taken < capacity``): when two customers take the last place at once the
  database lets exactly one of them through, the other is told the slot is full;
* a customer holds at most ``MAX_UPCOMING`` upcoming bookings and never two at
  the same time; its bookings are serialised on its customer row (a double
  click books once);
* cancel and reschedule only before the slot starts; moving a booking takes
  the new place first and gives the old one back in the same transaction;
* the hall marks a visit attended (from the day of the visit) or no-show (once
  the slot has started).

Every change writes an audit row with its actor. The reminder is in
``reminders``, online applications in ``applications``.
"""

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility, log_action, utility_held
from voltdesk.customers.models import Customer

from . import calendar
from .choices import HOLDING, BookingStatus, RemindBy
from .models import Booking, BusinessKind, ServiceHall, SlotCounter

MAX_UPCOMING = 3
NOTE_MAX = Booking._meta.get_field("note").max_length
# No 0/O or 1/I/L: a reference is read out over the counter.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class AppointmentError(ValueError):
    """A booking that cannot be made or changed; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def new_reference() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _i in range(8))
    return f"{body[:4]}-{body[4:]}"


def bookable_kinds(hall: ServiceHall | None = None):
    """The business customers may book, at ``hall`` when given."""
    kinds = BusinessKind.objects.filter(active=True)
    if hall is not None and hall.kinds.exists():
        kinds = kinds.filter(halls=hall)
    return kinds.order_by("rank", "code")


def check_kind(hall: ServiceHall, kind: BusinessKind) -> None:
    offered = list(hall.kinds.values_list("pk", flat=True))  # none listed: every kind
    if not kind.active or (offered and kind.pk not in offered):
        raise AppointmentError(
            _("%(hall)s does not take bookings for %(kind)s.")
            % {"hall": hall.name, "kind": kind.get_code_display()},
            "kind",
        )


def _check_slot(hall: ServiceHall, starts_at: datetime, now: datetime) -> None:
    if not hall.active:
        raise AppointmentError(_("%(hall)s takes no bookings.") % {"hall": hall.name}, "hall")
    if timezone.is_naive(starts_at):
        raise AppointmentError(_("The time has no time zone."), "slot")
    zone = ZoneInfo(get_utility().time_zone)
    if starts_at < now + calendar.MIN_NOTICE:
        raise AppointmentError(
            _("This time is too soon or past: book at least an hour ahead."), "slot"
        )
    local_day = starts_at.astimezone(zone).date()
    last = calendar.local_now(zone, now).date() + timedelta(days=hall.horizon_days)
    if local_day > last:
        raise AppointmentError(
            _("%(hall)s takes bookings up to %(days)s days ahead.")
            % {"hall": hall.name, "days": hall.horizon_days},
            "day",
        )
    if not calendar.is_slot(hall, starts_at):
        raise AppointmentError(
            _("%(hall)s has no slot at this time: it is closed or the time is not a slot start.")
            % {"hall": hall.name},
            "slot",
        )


def _remind_by(customer: Customer, remind_by: str | None) -> str:
    remind_by = remind_by or (RemindBy.SMS if customer.phone else RemindBy.EMAIL)
    if remind_by not in RemindBy.values:
        raise AppointmentError(_("Choose SMS or e-mail for the reminder."), "remind_by")
    if remind_by == RemindBy.SMS and not customer.phone:
        raise AppointmentError(
            _("We have no phone number for you: choose the e-mail reminder."), "remind_by"
        )
    if remind_by == RemindBy.EMAIL and not customer.email:
        raise AppointmentError(
            _("We have no e-mail address for you: choose the SMS reminder."), "remind_by"
        )
    return remind_by


def _take_place(hall: ServiceHall, starts_at: datetime) -> None:
    """Take one place in the slot, or raise: the database decides who gets the last one."""
    # The slot's first booker writes its counter; a second one at the same moment
    # waits on the unique key and inserts nothing (ON CONFLICT DO NOTHING).
    SlotCounter.objects.bulk_create(
        [SlotCounter(hall=hall, starts_at=starts_at)], ignore_conflicts=True
    )
    # Conditional and atomic: a second booker waits for the first's row lock and
    # then sees the new count (PostgreSQL re-checks the WHERE after the wait).
    took = SlotCounter.objects.filter(
        hall=hall, starts_at=starts_at, taken__lt=hall.capacity
    ).update(taken=F("taken") + 1)
    if not took:
        raise AppointmentError(_("This slot is full: choose another time."), "slot")


def _give_back(booking: Booking) -> None:
    SlotCounter.objects.filter(
        hall_id=booking.hall_id, starts_at=booking.starts_at, taken__gt=0
    ).update(taken=F("taken") - 1)


def book(
    actor,
    *,
    customer: Customer,
    hall: ServiceHall,
    kind: BusinessKind,
    starts_at: datetime,
    remind_by: str | None = None,
    note: str = "",
    language: str = "",
    now: datetime | None = None,
    _replacing: Booking | None = None,
) -> Booking:
    """Book one place for ``customer`` at ``hall`` in the slot starting at ``starts_at``."""
    with utility_held():  # the zone and calendar read once for all the checks
        return _book(
            actor,
            customer=customer,
            hall=hall,
            kind=kind,
            starts_at=starts_at,
            remind_by=remind_by,
            note=note,
            language=language,
            now=now,
            replacing=_replacing,
        )


def _book(
    actor, *, customer, hall, kind, starts_at, remind_by, note, language, now, replacing
) -> Booking:
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise AppointmentError(
            _("The note is too long: at most %(limit)s characters.") % {"limit": NOTE_MAX},
            "note",
        )
    check_kind(hall, kind)
    _check_slot(hall, starts_at, now)
    remind_by = _remind_by(customer, remind_by)
    ends_at = starts_at + timedelta(minutes=hall.slot_minutes)
    with transaction.atomic():
        # One customer's bookings one after the other: the checks below stay true.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        upcoming = Booking.objects.filter(customer=customer, status__in=HOLDING, starts_at__gt=now)
        if replacing is not None:
            upcoming = upcoming.exclude(pk=replacing.pk)
        spans = list(upcoming.values_list("starts_at", "ends_at"))
        if any(start < ends_at and end > starts_at for start, end in spans):
            raise AppointmentError(_("You already have a booking at this time."), "slot")
        if len(spans) >= MAX_UPCOMING:
            raise AppointmentError(
                _("You already have %(count)s upcoming bookings: cancel one first.")
                % {"count": MAX_UPCOMING},
                "slot",
            )
        _take_place(hall, starts_at)
        booking = _insert(
            hall=hall,
            kind=kind,
            customer=customer,
            starts_at=starts_at,
            ends_at=ends_at,
            remind_by=remind_by,
            language=language or customer.language or get_utility().default_language,
            note=note,
            booked_by=actor if getattr(actor, "pk", None) else None,
        )
        log_action(
            actor,
            "appointments.booked",
            booking,
            {"reference": booking.reference, "hall": hall.code, "starts_at": str(starts_at)},
        )
    return booking


def _insert(**fields) -> Booking:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Booking.objects.create(reference=new_reference(), **fields)
        except IntegrityError:
            continue  # the reference was taken: 31^8 codes, so almost never twice
    raise AppointmentError(_("No reference could be given; try again."), "slot")


def _locked(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("hall", "kind").get(pk=booking.pk)


def _check_changeable(booking: Booking, now: datetime) -> None:
    if booking.status != BookingStatus.BOOKED:
        raise AppointmentError(
            _("This booking is %(status)s: it cannot be changed.")
            % {"status": booking.get_status_display()},
            "status",
        )
    if booking.starts_at <= now:
        raise AppointmentError(
            _("The visit has started: it can no longer be cancelled or moved."), "status"
        )


def cancel(actor, booking: Booking, *, now: datetime | None = None) -> Booking:
    """Cancel before the slot starts; the place goes back to the slot."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking)
        _check_changeable(booking, now)
        booking.status = BookingStatus.CANCELLED
        booking.closed_at = now
        booking.closed_by = actor if getattr(actor, "pk", None) else None
        booking.save(update_fields=["status", "closed_at", "closed_by"])
        _give_back(booking)
        log_action(actor, "appointments.cancelled", booking, {"reference": booking.reference})
    return booking


def reschedule(
    actor,
    booking: Booking,
    *,
    starts_at: datetime,
    hall: ServiceHall | None = None,
    now: datetime | None = None,
) -> Booking:
    """Move a booking to another slot (of the same or another hall): returns the new booking."""
    now = now or timezone.now()
    with transaction.atomic():
        old = _locked(booking)
        _check_changeable(old, now)
        hall = hall or old.hall
        if hall.pk == old.hall_id and starts_at == old.starts_at:
            raise AppointmentError(_("Choose a different time to move the booking to."), "slot")
        new = book(
            actor,
            customer=old.customer,
            hall=hall,
            kind=old.kind,
            starts_at=starts_at,
            remind_by=old.remind_by,
            note=old.note,
            language=old.language,
            now=now,
            _replacing=old,
        )
        old.status = BookingStatus.RESCHEDULED
        old.rescheduled_to = new
        old.closed_at = now
        old.closed_by = actor if getattr(actor, "pk", None) else None
        old.save(update_fields=["status", "rescheduled_to", "closed_at", "closed_by"])
        _give_back(old)
        log_action(
            actor,
            "appointments.rescheduled",
            old,
            {"reference": old.reference, "to": new.reference, "starts_at": str(starts_at)},
        )
    return new


def mark_visit(actor, booking: Booking, outcome: str, *, now: datetime | None = None) -> Booking:
    """The hall's record of the visit: attended (from its day on) or no-show (once started)."""
    now = now or timezone.now()
    if outcome not in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise AppointmentError(_("Mark the visit attended or no-show."), "outcome")
    with transaction.atomic():
        booking = _locked(booking)
        if booking.status != BookingStatus.BOOKED:
            raise AppointmentError(
                _("This booking is %(status)s: it cannot be marked.")
                % {"status": booking.get_status_display()},
                "status",
            )
        zone = ZoneInfo(get_utility().time_zone)
        day = booking.starts_at.astimezone(zone).date()
        if outcome == BookingStatus.ATTENDED and calendar.local_now(zone, now).date() < day:
            raise AppointmentError(_("The visit is on a later day."), "outcome")
        if outcome == BookingStatus.NO_SHOW and now < booking.starts_at:
            raise AppointmentError(_("The slot has not started yet."), "outcome")
        booking.status = outcome
        booking.closed_at = now
        booking.closed_by = actor if getattr(actor, "pk", None) else None
        booking.save(update_fields=["status", "closed_at", "closed_by"])
        log_action(actor, f"appointments.{outcome}", booking, {"reference": booking.reference})
    return booking


def hall_day(hall: ServiceHall, day):
    """The hall's bookings of one local day, by time (for the desk)."""
    zone = ZoneInfo(get_utility().time_zone)
    start, end = calendar.day_bounds(day, zone)
    return (
        Booking.objects.filter(hall=hall, starts_at__gte=start, starts_at__lt=end)
        .select_related("customer", "kind")
        .order_by("starts_at", "pk")
    )
