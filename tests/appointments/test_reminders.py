"""The reminder the day before, with the one-time notice of documents, in the outbox."""

import pytest

from voltdesk.appointments import reminders, services
from voltdesk.appointments.models import Booking
from voltdesk.notifications.models import Message

from .conftest import at, load_notices

NOW = at("2026-09-14", 8)
VISIT = at("2026-09-15", 10)
DAY_BEFORE_NOON = at("2026-09-14", 12)


@pytest.fixture
def notices(cn):
    load_notices("cn")


def book(customer, hall, kind, **kw):
    return services.book(
        customer.user, customer=customer, hall=hall, kind=kind, starts_at=VISIT, now=NOW, **kw
    )


def test_reminder_and_notice_in_the_customers_language(hall, kinds, household, notices):
    c = household(language="he")
    booking = book(c, hall, kinds["meter_test"], language="he")
    result = reminders.send_reminders(now=DAY_BEFORE_NOON)
    assert result == {"reminded": 1, "failed": 0, "quiet_hours": False}
    reminder = Message.objects.get(template="appointment_reminder")
    assert reminder.channel == "sms" and reminder.language == "he"
    assert reminder.address == "+8613800138000"
    assert booking.reference in reminder.body and "10:00" in reminder.body
    notice = Message.objects.get(template="knowledge_notice")
    assert notice.language == "he" and notice.customer == c
    assert notice.payload["article_key"] == "cn-notice-meter-test"
    assert "/notice/" in notice.payload["link"]
    booking.refresh_from_db()
    assert booking.reminded_at == DAY_BEFORE_NOON


def test_a_second_run_sends_nothing_again(hall, kinds, household, notices):
    book(household(), hall, kinds["meter_test"])
    reminders.send_reminders(now=DAY_BEFORE_NOON)
    assert reminders.send_reminders(now=at("2026-09-14", 13))["reminded"] == 0
    assert Message.objects.count() == 2


def test_no_reminder_at_night_nor_for_other_days(hall, kinds, household, notices):
    c = household()
    book(c, hall, kinds["meter_test"])
    services.book(
        c.user,
        customer=c,
        hall=hall,
        kind=kinds["meter_test"],
        starts_at=at("2026-09-16", 10),
        now=NOW,
    )
    assert reminders.send_reminders(now=at("2026-09-14", 22))["quiet_hours"] is True
    assert reminders.send_reminders(now=at("2026-09-14", 6))["reminded"] == 0
    assert not Message.objects.exists()
    assert reminders.send_reminders(now=DAY_BEFORE_NOON)["reminded"] == 1  # only the 15th


def test_cancelled_visits_are_not_reminded(hall, kinds, household, notices):
    booking = book(household(), hall, kinds["meter_test"])
    services.cancel(None, booking, now=NOW)
    assert reminders.send_reminders(now=DAY_BEFORE_NOON)["reminded"] == 0
    assert not Message.objects.exists()


def test_the_notice_fits_the_customer_and_the_channel(hall, kinds, household, notices):
    kinds["new_connection"].notice_key = "cn-notice-residential-new"
    kinds["new_connection"].business_notice_key = "cn-notice-lv-nonresidential-new"
    kinds["new_connection"].save()
    home = household(language="en", phone="")
    shop = household(language="zh-hans", kind="business")
    book(home, hall, kinds["new_connection"])
    book(shop, hall, kinds["new_connection"])
    assert reminders.send_reminders(now=DAY_BEFORE_NOON)["reminded"] == 2
    by_customer = {m.customer_id: m for m in Message.objects.filter(template="knowledge_notice")}
    assert by_customer[home.pk].payload["article_key"] == "cn-notice-residential-new"
    assert by_customer[home.pk].channel == "email" and by_customer[home.pk].language == "en"
    assert "Documents to bring" in by_customer[home.pk].body
    assert by_customer[shop.pk].payload["article_key"] == "cn-notice-lv-nonresidential-new"
    assert by_customer[shop.pk].language == "zh-hans"
    reminder = Message.objects.get(template="appointment_reminder", customer=home)
    assert reminder.subject.startswith("Reminder: your visit to")
    assert "New connection" in reminder.body  # the business, in English


def test_without_a_published_notice_the_reminder_still_goes(hall, kinds, household, cn):
    booking = book(household(), hall, kinds["meter_test"])
    assert reminders.send_reminders(now=DAY_BEFORE_NOON)["reminded"] == 1
    assert Message.objects.filter(template="appointment_reminder").count() == 1
    assert not Message.objects.filter(template="knowledge_notice").exists()
    assert Booking.objects.get(pk=booking.pk).reminded_at is not None


def test_the_booking_page_links_the_notice(client, hall, kinds, household, notices, settings):
    from django.urls import reverse

    options = settings.TEMPLATES[0]["OPTIONS"]
    processors = [p for p in options["context_processors"] if "demand" not in p]
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "OPTIONS": {**options, "context_processors": processors}}
    ]
    c = household(language="en")
    booking = book(c, hall, kinds["meter_test"])
    client.force_login(c.user)
    page = client.get(reverse("portal:appointment", args=[booking.reference])).content.decode()
    assert 'id="notice-link"' in page and 'href="/notice/' in page
