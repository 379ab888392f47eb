"""Time-of-use slots: daylight-saving days, weekends and holidays of each profile."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from voltdesk.billing.tou import DayCalendar, TouPlan, slots

JERUSALEM = ZoneInfo("Asia/Jerusalem")
OFF = "off_peak"
# Peak 17-22 on working days, all year; other hours off-peak.
PLAN = TouPlan(
    "tou",
    dict.fromkeys(range(1, 13), "year"),
    {("year", "workday"): tuple(OFF if not 17 <= h < 22 else "peak" for h in range(24))},
)
IL = DayCalendar("IL")


def hours(result, period):
    return sum(s.hours for s in result if s.period == period)


def test_spring_forward_day_has_23_hours():
    # Friday 27 March 2026: clocks go 02:00 -> 03:00; Friday is a weekend day in Israel.
    result = slots(PLAN, date(2026, 3, 27), date(2026, 3, 28), JERUSALEM, IL)
    assert [(s.period, s.hours) for s in result] == [(OFF, 23)]
    assert result[0].start == datetime(2026, 3, 26, 22, tzinfo=UTC)
    assert result[0].end == datetime(2026, 3, 27, 21, tzinfo=UTC)


def test_fall_back_day_has_25_hours_and_peak_at_local_time():
    # Sunday 25 October 2026, a working day in Israel: 01:00-02:00 happens twice.
    result = slots(PLAN, date(2026, 10, 25), date(2026, 10, 26), JERUSALEM, IL)
    assert [(s.period, s.hours) for s in result] == [(OFF, 18), ("peak", 5), (OFF, 2)]
    # Peak 17:00-22:00 local is 15:00-20:00 UTC after the change (UTC+2).
    assert result[1].start == datetime(2026, 10, 25, 15, tzinfo=UTC)
    assert result[1].end == datetime(2026, 10, 25, 20, tzinfo=UTC)


def test_a_month_of_slots_covers_every_real_hour_once():
    result = slots(PLAN, date(2026, 10, 1), date(2026, 11, 1), JERUSALEM, IL)
    assert sum(s.hours for s in result) == 31 * 24 + 1
    assert all(a.end == b.start for a, b in zip(result, result[1:], strict=False))


def test_holiday_has_no_peak():
    # Monday 21 September 2026 is Yom Kippur; Monday 14 September a working day.
    assert hours(slots(PLAN, date(2026, 9, 21), date(2026, 9, 22), JERUSALEM, IL), "peak") == 0
    assert hours(slots(PLAN, date(2026, 9, 14), date(2026, 9, 15), JERUSALEM, IL), "peak") == 5


def test_day_kinds_of_israel_and_china():
    assert IL.kind(date(2026, 9, 18)) == "weekend"  # Friday
    assert IL.kind(date(2026, 9, 20)) == "workday"  # Sunday
    assert IL.kind(date(2026, 9, 21)) == "holiday"
    cn = DayCalendar("CN")
    assert cn.kind(date(2026, 9, 19)) == "weekend"  # Saturday
    assert cn.kind(date(2026, 9, 20)) == "workday"  # Sunday, a make-up working day (调休)
    assert cn.kind(date(2026, 10, 10)) == "workday"  # Saturday, a make-up working day
    assert cn.kind(date(2026, 10, 1)) == "holiday"  # National Day
    assert cn.kind(date(2026, 10, 7)) == "holiday"  # a day off in lieu


def test_flat_plan_is_one_slot_of_all_hours():
    result = slots(TouPlan("flat", {}, {}), date(2026, 3, 1), date(2026, 4, 1), JERUSALEM, IL)
    assert [(s.period, s.hours) for s in result] == [("all", 31 * 24 - 1)]
