"""Booking, capacity, cancel, reschedule and marking visits: the rules a customer meets."""

import pytest

from voltdesk.appointments import services
from voltdesk.appointments.choices import BookingStatus
from voltdesk.appointments.models import Booking, SlotCounter
from voltdesk.core.models import AuditEntry

from .conftest import at, make_hall

NOW = at("2026-09-14", 8)
SLOT = at("2026-09-15", 9, 30)


def book(customer, hall, kind, starts_at=SLOT, now=NOW, **kw):
    return services.book(
        customer.user, customer=customer, hall=hall, kind=kind, starts_at=starts_at, now=now, **kw
    )


def taken(hall, starts_at=SLOT):
    row = SlotCounter.objects.filter(hall=hall, starts_at=starts_at).first()
    return row.taken if row else 0


def test_a_booking_takes_a_place_and_gets_a_reference(hall, kinds, household):
    c = household()
    booking = book(c, hall, kinds["meter_test"])
    assert booking.status == BookingStatus.BOOKED
    assert len(booking.reference) == 9 and booking.reference[4] == "-"
    assert booking.ends_at == at("2026-09-15", 10)
    assert booking.remind_by == "sms" and booking.language == "zh-hans"
    assert taken(hall) == 1
    assert AuditEntry.objects.filter(action="appointments.booked").count() == 1


def test_the_slot_is_full_at_capacity(hall, kinds, household):
    book(household(), hall, kinds["meter_test"])
    book(household(), hall, kinds["meter_test"])  # capacity 2
    late = household()
    with pytest.raises(services.AppointmentError, match="full") as exc:
        book(late, hall, kinds["meter_test"])
    assert exc.value.field == "slot"
    assert taken(hall) == 2
    assert not Booking.objects.filter(customer=late).exists()


@pytest.mark.parametrize(
    "starts_at, message",
    [
        (at("2026-09-15", 9, 10), "no slot at this time"),  # not a slot start
        (at("2026-09-15", 12), "no slot at this time"),  # lunch break
        (at("2026-10-01", 9), "no slot at this time"),  # National Day
        (at("2026-09-14", 8, 30), "too soon"),  # in half an hour
        (at("2026-09-13", 9), "too soon or past"),
        (at("2026-12-15", 9), "up to 60 days ahead"),
    ],
)
def test_bad_times_are_refused_and_nothing_is_written(hall, kinds, household, starts_at, message):
    c = household()
    with pytest.raises(services.AppointmentError, match=message):
        book(c, hall, kinds["meter_test"], starts_at=starts_at)
    assert not Booking.objects.exists() and not SlotCounter.objects.exists()


def test_a_business_the_hall_does_not_offer_is_refused(hall, kinds, household):
    hall.kinds.set([kinds["meter_test"]])
    with pytest.raises(services.AppointmentError, match="does not take bookings for") as exc:
        book(household(), hall, kinds["new_connection"])
    assert exc.value.field == "kind"


def test_one_customer_cannot_be_twice_at_once_nor_hold_too_many(cn, kinds, household):
    hall, other = make_hall("a"), make_hall("b")
    c = household()
    book(c, hall, kinds["meter_test"])
    with pytest.raises(services.AppointmentError, match="already have a booking at this time"):
        book(c, other, kinds["new_connection"])
    book(c, hall, kinds["meter_test"], starts_at=at("2026-09-16", 9))
    book(c, hall, kinds["meter_test"], starts_at=at("2026-09-17", 9))
    with pytest.raises(services.AppointmentError, match="3 upcoming bookings"):
        book(c, hall, kinds["meter_test"], starts_at=at("2026-09-18", 9))


def test_an_email_reminder_needs_an_address(hall, kinds, household):
    c = household(phone="")
    assert book(c, hall, kinds["meter_test"]).remind_by == "email"
    d = household()
    d.email = ""
    d.save()
    with pytest.raises(services.AppointmentError, match="no e-mail address"):
        book(d, hall, kinds["meter_test"], remind_by="email")


def test_cancel_gives_the_place_back(hall, kinds, household):
    booking = book(household(), hall, kinds["meter_test"])
    services.cancel(None, booking, now=NOW)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and taken(hall) == 0
    with pytest.raises(services.AppointmentError, match="cannot be changed"):
        services.cancel(None, booking, now=NOW)
    assert taken(hall) == 0  # not given back twice


def test_no_cancel_or_move_once_the_slot_started(hall, kinds, household):
    booking = book(household(), hall, kinds["meter_test"])
    started = at("2026-09-15", 9, 31)
    with pytest.raises(services.AppointmentError, match="has started"):
        services.cancel(None, booking, now=started)
    with pytest.raises(services.AppointmentError, match="has started"):
        services.reschedule(None, booking, starts_at=at("2026-09-16", 9), now=started)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.BOOKED and taken(hall) == 1


def test_reschedule_moves_the_place(hall, kinds, household):
    c = household()
    old = book(c, hall, kinds["meter_test"])
    new_time = at("2026-09-16", 14)
    new = services.reschedule(c.user, old, starts_at=new_time, now=NOW)
    old.refresh_from_db()
    assert old.status == BookingStatus.RESCHEDULED and old.rescheduled_to == new
    assert new.status == BookingStatus.BOOKED and new.starts_at == new_time
    assert new.kind == old.kind and new.reference != old.reference
    assert taken(hall, SLOT) == 0 and taken(hall, new_time) == 1


def test_reschedule_into_a_full_slot_changes_nothing(hall, kinds, household):
    full = at("2026-09-16", 9)
    book(household(), hall, kinds["meter_test"], starts_at=full)
    book(household(), hall, kinds["meter_test"], starts_at=full)
    old = book(household(), hall, kinds["meter_test"])
    with pytest.raises(services.AppointmentError, match="full"):
        services.reschedule(None, old, starts_at=full, now=NOW)
    old.refresh_from_db()
    assert old.status == BookingStatus.BOOKED and taken(hall, SLOT) == 1 and taken(hall, full) == 2
    with pytest.raises(services.AppointmentError, match="different time"):
        services.reschedule(None, old, starts_at=SLOT, now=NOW)


def test_the_hall_marks_attended_or_no_show(hall, kinds, household, staff):
    agent = staff()
    a = book(household(), hall, kinds["meter_test"])
    b = book(household(), hall, kinds["meter_test"])
    with pytest.raises(services.AppointmentError, match="later day"):
        services.mark_visit(agent, a, "attended", now=NOW)
    with pytest.raises(services.AppointmentError, match="not started"):
        services.mark_visit(agent, b, "no_show", now=at("2026-09-15", 9))
    assert services.mark_visit(agent, a, "attended", now=at("2026-09-15", 9)).status == "attended"
    assert services.mark_visit(agent, b, "no_show", now=at("2026-09-15", 10)).status == "no_show"
    with pytest.raises(services.AppointmentError, match="cannot be marked"):
        services.mark_visit(agent, a, "no_show", now=at("2026-09-15", 10))
    with pytest.raises(services.AppointmentError, match="attended or no-show"):
        services.mark_visit(agent, a, "gone", now=at("2026-09-15", 10))
