"""Free slots follow the opening hours, the holiday calendar, closures and capacity."""

from datetime import date, time

from voltdesk.appointments import calendar
from voltdesk.appointments.models import HallClosure, SlotCounter

from .conftest import JERUSALEM, at, make_hall

# A Monday well before the National Day week; the search starts from here.
NOW = at("2026-09-14", 8)


def starts(hall, day):
    d = date.fromisoformat(day)
    return [
        s.starts_at.astimezone(calendar.ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        for s in calendar.hall_slots(hall, d, d, now=NOW)
    ]


WORKING_DAY = [
    # 09:00–12:00 in 30-minute slots: 6; 13:30–17:00: 7
    "09:00",
    "09:30",
    "10:00",
    "10:30",
    "11:00",
    "11:30",
    "13:30",
    "14:00",
    "14:30",
    "15:00",
    "15:30",
    "16:00",
    "16:30",
]


def test_a_working_day_has_the_slots_of_its_hours(hall):
    assert starts(hall, "2026-09-15") == WORKING_DAY


def test_a_plain_sunday_is_closed_but_the_make_up_sunday_opens(hall):
    # 2026-09-20 is a Sunday worked instead of 2026-10-06 (调休): open with working-day hours.
    assert starts(hall, "2026-09-20") == WORKING_DAY
    assert starts(hall, "2026-09-27") == []  # an ordinary Sunday


def test_national_day_and_the_days_moved_into_it_are_closed(hall):
    for day in ("2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"):
        assert starts(hall, day) == [], day
    assert starts(hall, "2026-10-08") == WORKING_DAY
    # 2026-10-10 is a Saturday worked instead of 2026-10-07.
    assert starts(hall, "2026-10-10") == WORKING_DAY


def test_a_hall_with_saturday_hours_closes_on_a_holiday_saturday(cn):
    hall = make_hall("weekend", weekdays=range(7), spans=[(time(9), time(10))])
    assert starts(hall, "2026-09-19") == ["09:00", "09:30"]  # an ordinary Saturday
    assert starts(hall, "2026-10-03") == []  # National Day, a Saturday


def test_a_hall_closure_closes_the_day(hall):
    HallClosure.objects.create(hall=hall, day=date(2026, 9, 16), reason="training")
    assert starts(hall, "2026-09-16") == []
    assert calendar.open_days(hall, date(2026, 9, 14), date(2026, 9, 18)) == [
        date(2026, 9, 14),
        date(2026, 9, 15),
        date(2026, 9, 17),
        date(2026, 9, 18),
    ]


def test_capacity_counts_what_is_taken(hall):
    nine = at("2026-09-15", 9)
    SlotCounter.objects.create(hall=hall, starts_at=nine, taken=2)  # capacity 2: full
    SlotCounter.objects.create(hall=hall, starts_at=at("2026-09-15", 9, 30), taken=1)
    d = date(2026, 9, 15)
    slots = {s.starts_at: s for s in calendar.hall_slots(hall, d, d, now=NOW)}
    assert slots[nine].free == 0
    assert slots[at("2026-09-15", 9, 30)].free == 1
    assert slots[at("2026-09-15", 10)].free == 2
    free = [s.starts_at for s in calendar.free_slots(hall, d, d, now=NOW)]
    assert nine not in free and len(free) == len(WORKING_DAY) - 1


def test_no_slot_within_an_hour_nor_beyond_the_horizon(hall):
    now = at("2026-09-15", 10, 15)
    d = date(2026, 9, 15)
    first = calendar.hall_slots(hall, d, d, now=now)[0]
    assert first.starts_at == at("2026-09-15", 11, 30)  # 11:00 is 45 minutes away
    hall.horizon_days = 3
    assert calendar.hall_slots(hall, date(2026, 9, 19), date(2026, 9, 30), now=now) == []


def test_slot_length_and_a_short_span(cn):
    hall = make_hall("short", spans=[(time(9), time(10, 10))], minutes=20)
    # 09:00, 09:20, 09:40 fit; 10:00–10:20 would end after closing at 10:10.
    assert starts(hall, "2026-09-15") == ["09:00", "09:20", "09:40"]


def test_israel_week_and_holidays(utility):
    # Israel: Sunday to Thursday open, the weekend is Friday and Saturday.
    hall = make_hall("tlv", weekdays=[6, 0, 1, 2, 3], spans=[(time(8), time(9))])
    now = at("2026-09-06", 7, zone=JERUSALEM)

    def local(day):
        d = date.fromisoformat(day)
        return [
            s.starts_at.astimezone(JERUSALEM).strftime("%H:%M")
            for s in calendar.hall_slots(hall, d, d, now=now)
        ]

    assert local("2026-09-06") == ["08:00", "08:30"]  # a Sunday
    assert local("2026-09-11") == []  # a Friday
    assert local("2026-09-21") == []  # Yom Kippur, a Monday
