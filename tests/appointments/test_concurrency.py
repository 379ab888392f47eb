"""Two customers take the last place of a slot at the same moment: exactly one gets it.

Runs on PostgreSQL (two connections, two threads); SQLite serialises writers
on one file and cannot run two transactions at once here, so it is skipped.
"""

import threading

import pytest
from django.db import connection, connections

from voltdesk.appointments import services
from voltdesk.appointments.models import Booking, SlotCounter

from .conftest import at, make_hall

NOW = at("2026-09-14", 8)
SLOT = at("2026-09-15", 9, 30)


@pytest.mark.django_db(transaction=True)
def test_two_customers_one_last_place(cn, kinds, household):
    if connection.vendor != "postgresql":
        pytest.skip("needs two concurrent transactions (PostgreSQL)")
    hall = make_hall(capacity=3)
    first = household()
    services.book(
        None, customer=first, hall=hall, kind=kinds["meter_test"], starts_at=SLOT, now=NOW
    )
    services.book(
        None, customer=household(), hall=hall, kind=kinds["meter_test"], starts_at=SLOT, now=NOW
    )
    racers = [household(), household()]
    start = threading.Barrier(2)
    results: dict = {}

    def race(customer):
        try:
            start.wait()
            booking = services.book(
                None,
                customer=customer,
                hall=hall,
                kind=kinds["meter_test"],
                starts_at=SLOT,
                now=NOW,
            )
            results[customer.pk] = booking.reference
        except services.AppointmentError as exc:
            results[customer.pk] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(c,)) for c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [r for r in results.values() if isinstance(r, str)]
    losers = [r for r in results.values() if isinstance(r, services.AppointmentError)]
    assert len(winners) == 1 and len(losers) == 1
    assert "full" in losers[0].message
    assert SlotCounter.objects.get(hall=hall, starts_at=SLOT).taken == 3
    assert Booking.objects.filter(hall=hall, starts_at=SLOT).count() == 3


@pytest.mark.django_db(transaction=True)
def test_first_booking_of_a_slot_from_two_customers_at_once(cn, kinds, household):
    """Both create the slot's counter row at once: the unique key settles it, both get in."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two concurrent transactions (PostgreSQL)")
    hall = make_hall(capacity=2)
    racers = [household(), household()]
    start = threading.Barrier(2)
    results: dict = {}

    def race(customer):
        try:
            start.wait()
            results[customer.pk] = services.book(
                None,
                customer=customer,
                hall=hall,
                kind=kinds["meter_test"],
                starts_at=SLOT,
                now=NOW,
            ).reference
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            results[customer.pk] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(c,)) for c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(isinstance(r, str) for r in results.values()), results
    assert SlotCounter.objects.get(hall=hall, starts_at=SLOT).taken == 2
