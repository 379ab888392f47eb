"""The portal and desk pages: what each visitor gets, bad input answered 4xx, scoping proved."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from voltdesk.appointments import calendar, services
from voltdesk.appointments.applications import submit_application
from voltdesk.appointments.models import Booking
from voltdesk.core import roles
from voltdesk.workorders.models import WorkOrder

from .conftest import make_hall

PDF = b"%PDF-1.4\n% scan\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def no_demand_banner(settings):
    # The demand banner's context processor is another app's work in progress and
    # fails for customers whose sites have no feeder; these tests are about our pages.
    options = settings.TEMPLATES[0]["OPTIONS"]
    processors = [p for p in options["context_processors"] if "demand" not in p]
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "OPTIONS": {**options, "context_processors": processors}}
    ]


@pytest.fixture
def open_hall(cn):
    # Open every day, all day: whatever day the tests run, there are slots (holidays aside).
    from datetime import time

    return make_hall("allday", weekdays=range(7), spans=[(time(0), time(23, 30))])


def first_free(hall):
    today = timezone.localdate(timezone=calendar.ZoneInfo("Asia/Shanghai"))
    return calendar.free_slots(hall, today, today + timedelta(days=30))[0].starts_at


@pytest.fixture
def two(open_hall, kinds, household):
    """Customer A with a booking and an application; customer B with nothing."""
    a, b = household(), household()
    booking = services.book(
        a.user,
        customer=a,
        hall=open_hall,
        kind=kinds["meter_test"],
        starts_at=first_free(open_hall),
    )
    application = submit_application(
        a.user,
        customer=a,
        kind="new_connection",
        supply="residential",
        address="1 Road",
        files=[SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf")],
    )
    return a, b, booking, application


def urls_of(booking, application):
    ref = booking.reference
    return [
        ("get", reverse("portal:appointment", args=[ref])),
        ("post", reverse("portal:appointment_cancel", args=[ref])),
        ("get", reverse("portal:appointment_cancel", args=[ref])),
        ("get", reverse("portal:appointment_reschedule", args=[ref])),
        ("post", reverse("portal:appointment_reschedule", args=[ref])),
        ("get", reverse("portal:application", args=[application.pk])),
    ]


def test_another_customer_gets_404_everywhere_and_changes_nothing(client, two):
    a, b, booking, application = two
    client.force_login(b.user)
    for method, url in urls_of(booking, application):
        response = getattr(client, method)(url, {"slot": booking.starts_at.isoformat()})
        assert response.status_code == 404, url
    booking.refresh_from_db()
    assert booking.status == "booked" and Booking.objects.count() == 1
    lists = client.get(reverse("portal:appointments")).content.decode()
    lists += client.get(reverse("portal:applications")).content.decode()
    assert booking.reference not in lists and application.work_order.number not in lists


def test_the_owner_sees_and_lists_its_rows(client, two):
    a, _b, booking, application = two
    client.force_login(a.user)
    assert booking.reference in client.get(reverse("portal:appointments")).content.decode()
    page = client.get(reverse("portal:appointment", args=[booking.reference]))
    assert page.status_code == 200 and b"cancel-form" in page.content
    listed = client.get(reverse("portal:applications")).content.decode()
    assert application.work_order.number in listed
    detail = client.get(reverse("portal:application", args=[application.pk]))
    assert detail.status_code == 200
    assert b"id.pdf" in detail.content and b"application-due" in detail.content


def test_anonymous_and_staff_visitors(client, two, staff):
    _a, _b, booking, application = two
    for _method, url in urls_of(booking, application)[:1] + [
        ("get", reverse("portal:appointments")),
        ("get", reverse("portal:applications")),
        ("get", reverse("portal:appointment_new")),
        ("get", reverse("portal:application_new")),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    client.force_login(staff())
    response = client.get(reverse("portal:appointments"))
    assert response.status_code == 302 and response["Location"] == reverse("desk:home")


def test_booking_through_the_pages(client, open_hall, kinds, household):
    c = household()
    client.force_login(c.user)
    url = reverse("portal:appointment_new")
    page = client.get(url, {"hall": "allday", "kind": "meter_test"})
    assert page.status_code == 200 and b'name="slot"' in page.content
    slot = first_free(open_hall)
    response = client.post(
        url,
        {"hall": "allday", "kind": "meter_test", "slot": slot.isoformat(), "remind_by": "sms"},
    )
    booking = Booking.objects.get(customer=c)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:appointment", args=[booking.reference])
    # Move it, then cancel the moved one.
    later = calendar.free_slots(open_hall, slot.date(), slot.date() + timedelta(days=30))[1]
    moved = client.post(
        reverse("portal:appointment_reschedule", args=[booking.reference]),
        {"slot": later.starts_at.isoformat(), "remind_by": "sms"},
    )
    new = Booking.objects.get(customer=c, status="booked")
    assert moved.status_code == 302 and new.starts_at == later.starts_at
    cancelled = client.post(reverse("portal:appointment_cancel", args=[new.reference]))
    assert cancelled.status_code == 302
    assert Booking.objects.get(pk=new.pk).status == "cancelled"
    again = client.post(reverse("portal:appointment_cancel", args=[new.reference]))
    assert again.status_code == 409 and "cannot be changed" in again.content.decode()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hall": "allday", "kind": "meter_test", "day": "2026-13-45"}, "YYYY-MM-DD"),
        ({"hall": "nowhere", "kind": "meter_test"}, "nowhere is not among them"),
        ({"hall": "allday", "kind": "picnic"}, "picnic is not among them"),
    ],
)
def test_bad_searches_answer_400(client, open_hall, kinds, household, params, message):
    client.force_login(household().user)
    response = client.get(reverse("portal:appointment_new"), params)
    assert response.status_code == 400 and message in response.content.decode()


def test_bad_slots_answer_400_and_book_nothing(client, open_hall, kinds, household):
    client.force_login(household().user)
    url = reverse("portal:appointment_new")
    base = {"hall": "allday", "kind": "meter_test", "remind_by": "sms"}
    garbage = client.post(url, {**base, "slot": "tomorrow-ish"})
    assert garbage.status_code == 400 and "not a time" in garbage.content.decode()
    off = first_free(open_hall) + timedelta(minutes=10)
    misaligned = client.post(url, {**base, "slot": off.isoformat()})
    assert misaligned.status_code == 400 and "no slot at this time" in misaligned.content.decode()
    past = client.post(url, {**base, "slot": "2020-01-06T09:00:00+08:00"})
    assert past.status_code == 400 and "too soon or past" in past.content.decode()
    assert not Booking.objects.exists()


def test_application_pages(client, cn, household):
    c = household()
    client.force_login(c.user)
    url = reverse("portal:application_new")
    assert client.get(url).status_code == 200
    refused = client.post(
        url,
        {
            "kind": "new_connection",
            "supply": "residential",
            "address": "5 Lane",
            "documents": [SimpleUploadedFile("cat.gif", b"GIF89a..", content_type="image/gif")],
        },
    )
    assert refused.status_code == 400
    assert "cat.gif is not a PDF, JPEG or PNG" in refused.content.decode()
    assert not WorkOrder.objects.exists()
    sent = client.post(
        url,
        {
            "kind": "new_connection",
            "supply": "residential",
            "address": "5 Lane",
            "documents": [SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf")],
        },
    )
    assert sent.status_code == 302
    order = WorkOrder.objects.get()
    assert order.customer == c and order.subtype == "new_connection"


def test_desk_pages_by_role(client, two, staff, household):
    _a, _b, booking, _application = two
    halls = reverse("desk:appointments:halls")
    day = reverse("desk:appointments:hall_day", args=["allday"])
    mark = reverse("desk:appointments:mark", args=[booking.reference])
    assert client.get(halls).status_code == 302  # anonymous: log in
    client.force_login(household().user)
    assert client.get(halls).status_code == 403
    assert client.post(mark, {"outcome": "attended"}).status_code == 403
    client.force_login(staff(roles.KNOWLEDGE_EDITOR))  # reads orders, does not work them
    local_day = booking.starts_at.astimezone(calendar.ZoneInfo("Asia/Shanghai")).date()
    page = client.get(day, {"day": local_day.isoformat()})
    assert page.status_code == 200 and booking.reference in page.content.decode()
    assert b"outcome" not in page.content
    assert client.post(mark, {"outcome": "no_show"}).status_code == 403
    client.force_login(staff(roles.AGENT))
    assert client.get(halls).status_code == 200
    assert client.get(day, {"day": "03/12/2026"}).status_code == 400
    assert client.get(reverse("desk:appointments:hall_day", args=["nowhere"])).status_code == 404
    assert client.get(mark).status_code == 405
    # The visit is on a later day or now: attended works from its day on.
    response = client.post(mark, {"outcome": "attended"})
    assert response.status_code == 302
    booking.refresh_from_db()
    today = timezone.localdate(timezone=calendar.ZoneInfo("Asia/Shanghai"))
    # Attended is allowed from the visit's own day on; the first free slot may be tomorrow.
    assert booking.status == ("attended" if local_day <= today else "booked")


def test_the_desk_finds_a_booking_by_its_reference(client, two, staff):
    _a, _b, booking, _application = two
    client.force_login(staff(roles.AGENT))
    halls = reverse("desk:appointments:halls")
    found = client.get(halls, {"ref": booking.reference.lower()})
    assert found.status_code == 302 and f"#booking-{booking.reference}" in found["Location"]
    missing = client.get(halls, {"ref": "ZZZZ-ZZZZ"})
    assert missing.status_code == 404 and "ZZZZ-ZZZZ" in missing.content.decode()


def test_a_cancelled_visit_cannot_be_moved(client, two):
    a, _b, booking, _application = two
    services.cancel(a.user, booking)
    client.force_login(a.user)
    url = reverse("portal:appointment_reschedule", args=[booking.reference])
    page = client.get(url)
    assert page.status_code == 200 and b"not-changeable" in page.content
    moved = client.post(url, {"slot": booking.starts_at.isoformat(), "remind_by": "sms"})
    assert moved.status_code == 400 and Booking.objects.count() == 1
