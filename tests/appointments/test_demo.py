"""The demo halls and the visit of the demo household ``home``."""

from datetime import date

import pytest
from django.contrib.auth.models import User

from voltdesk.appointments.demo import seed_appointments
from voltdesk.appointments.models import Booking, BusinessKind, ServiceHall
from voltdesk.customers.models import Customer, CustomerUser


@pytest.mark.parametrize("profile", ["il", "cn"])
def test_demo_halls_and_a_booking_for_home(db, profile):
    from voltdesk.core.services import init_utility

    init_utility(profile)
    customer = Customer.objects.create(
        ref="R1", name="Home", kind="residential", phone="+972501234567", language="en"
    )
    user = User.objects.create_user("home")
    CustomerUser.objects.create(user=user, customer=customer, company_role="holder")
    # 2026-09-14 is a Monday (cn opens Monday to Friday, il Sunday to Thursday).
    result = seed_appointments(profile, date(2026, 9, 14))
    assert result["halls"] == 2 and ServiceHall.objects.count() == 2
    assert BusinessKind.objects.filter(code="meter_test").exists()
    booking = Booking.objects.get(customer=customer)
    assert booking.reference == result["booking"] and booking.kind.code == "meter_test"
    assert booking.starts_at.hour in (7, 2)  # 10:00 local: 07:00 UTC in il, 02:00 in cn
    again = seed_appointments(profile, date(2026, 9, 14))  # run again: nothing new
    assert ServiceHall.objects.count() == 2 and again["booking"] == booking.reference
    assert Booking.objects.count() == 1
