"""Service halls for the demo (il and cn), the bookable business, and a visit for ``home``.

Run after the knowledge base is loaded, so the kinds point at its notices.
Deterministic: no randomness; the booking is on the first working-day slot at
10:00 two to seven days after ``today``.
"""

from datetime import date, datetime, time, timedelta

from django.db import transaction

from voltdesk.core.models import Area
from voltdesk.customers.models import CustomerUser

from . import calendar
from .choices import BusinessKindCode
from .models import Booking, BusinessKind, HallClosure, OpeningHours, ServiceHall

# code, name, address, phone, weekday hours, Saturday hours, slot minutes, capacity
HALLS = {
    "il": [
        (
            "tel-aviv",
            "מרכז שירות תל אביב",
            "דרך מנחם בגין 132, תל אביב-יפו",
            "+97236170000",
            # Sunday to Thursday; Israel's weekend is Friday and Saturday.
            {
                6: [(time(8), time(16))],
                0: [(time(8), time(16))],
                1: [(time(8), time(16))],
                2: [(time(8), time(18))],
                3: [(time(8), time(16))],
            },
            30,
            3,
        ),
        (
            "haifa",
            "מרכז שירות חיפה",
            "שדרות ההסתדרות 55, חיפה",
            "+97248640000",
            {
                6: [(time(8), time(15))],
                0: [(time(8), time(15))],
                1: [(time(8), time(15))],
                2: [(time(8), time(15))],
                3: [(time(8), time(13))],
            },
            30,
            2,
        ),
    ],
    "cn": [
        (
            "chaoyang",
            "朝阳营业厅",
            "北京市朝阳区朝阳门外大街 26 号",
            "+861095598",
            # Monday to Friday with a lunch break; Saturday mornings.
            {d: [(time(9), time(12)), (time(13, 30), time(17))] for d in range(5)}
            | {5: [(time(9), time(12))]},
            20,
            3,
        ),
        (
            "haidian",
            "海淀营业厅",
            "北京市海淀区中关村大街 18 号",
            "+861095598",
            {d: [(time(9), time(17))] for d in range(5)},
            30,
            2,
        ),
    ],
}

# kind, notice for households, notice for businesses (knowledge/content/<profile>.json)
KINDS = {
    "il": [
        (
            BusinessKindCode.NEW_CONNECTION,
            "il-notice-new-connection-residential",
            "il-notice-new-connection-business-lv",
        ),
        (BusinessKindCode.CHANGE_OF_USE, "il-notice-change-of-use", ""),
        (BusinessKindCode.CAPACITY_INCREASE, "il-notice-capacity-increase", ""),
        (BusinessKindCode.METER_TEST, "il-notice-meter-test", ""),
        (
            BusinessKindCode.NAME_TRANSFER,
            "il-notice-name-transfer-moving-in",
            "il-notice-name-transfer-business-sale",
        ),
    ],
    "cn": [
        (
            BusinessKindCode.NEW_CONNECTION,
            "cn-notice-residential-new",
            "cn-notice-lv-nonresidential-new",
        ),
        (BusinessKindCode.CHANGE_OF_USE, "cn-notice-change-category", ""),
        (BusinessKindCode.CAPACITY_INCREASE, "cn-notice-capacity-increase", ""),
        (BusinessKindCode.METER_TEST, "cn-notice-meter-test", ""),
        (BusinessKindCode.NAME_TRANSFER, "cn-notice-name-transfer", ""),
    ],
}


@transaction.atomic
def seed_halls(profile: str) -> list[ServiceHall]:
    """The profile's halls with their hours and the bookable business; run again, no change."""
    for rank, (code, notice, business_notice) in enumerate(KINDS[profile]):
        BusinessKind.objects.get_or_create(
            code=code,
            defaults={"notice_key": notice, "business_notice_key": business_notice, "rank": rank},
        )
    area = Area.objects.order_by("name").first()
    halls = []
    for code, name, address, phone, hours, minutes, capacity in HALLS[profile]:
        hall, created = ServiceHall.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "address": address,
                "phone": phone,
                "area": area,
                "slot_minutes": minutes,
                "capacity": capacity,
            },
        )
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(hall=hall, weekday=weekday, opens=opens, closes=closes)
                for weekday, spans in hours.items()
                for opens, closes in spans
            )
        halls.append(hall)
    return halls


def seed_appointments(profile: str, today: date) -> dict:
    """Halls, kinds, a closure, and a booked visit for the demo household ``home``."""
    from . import services

    halls = seed_halls(profile)
    # The second hall closes one day next week (staff training): the day picker shows it.
    HallClosure.objects.get_or_create(
        hall=halls[1], day=today + timedelta(days=8), defaults={"reason": "training"}
    )
    link = CustomerUser.objects.filter(user__username="home").select_related("customer", "user")
    link = link.first()
    booking = None
    if link is not None:
        booking = Booking.objects.filter(customer=link.customer).order_by("pk").first()
    if link is not None and booking is None:
        kind = BusinessKind.objects.get(code=BusinessKindCode.METER_TEST)
        hall = halls[0]
        week = calendar.hall_week(hall, today, today + timedelta(days=14))
        for offset in range(2, 15):
            starts = [s for s in week.slot_starts(today + timedelta(days=offset)) if s.hour == 10]
            if starts:
                booking = services.book(
                    link.user,
                    customer=link.customer,
                    hall=hall,
                    kind=kind,
                    starts_at=starts[0],
                    remind_by="sms" if link.customer.phone else "email",
                    note="",
                    # The demo's "today" may be another day than the machine's.
                    now=datetime.combine(today, time(8), tzinfo=week.zone),
                )
                break
    return {"halls": len(halls), "booking": booking.reference if booking else None}
