"""Service commitments: due times worked out by hand across weekends, holidays and make-up days."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voltdesk.workorders import sla
from voltdesk.workorders.models import Deadline, SlaPolicy, Transition
from voltdesk.workorders.services import open_work_order, transition

SHANGHAI = ZoneInfo("Asia/Shanghai")
JERUSALEM = ZoneInfo("Asia/Jerusalem")


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def due(order, clock):
    return Deadline.objects.get(work_order=order, clock=clock).due_at


@pytest.fixture
def cn_network(utility_cn):
    from voltdesk.core.models import Area, Feeder, Region

    region = Region.objects.create(name="Pudong")
    city = Area.objects.create(region=region, name="Lujiazui", kind="urban")
    remote = Area.objects.create(region=region, name="Chongming", kind="remote")
    return {
        "city": city,
        "remote": remote,
        "f1": Feeder.objects.create(area=city, name="LJZ-1"),
        "fr": Feeder.objects.create(area=remote, name="CM-1"),
    }


def complaint(at, **kw):
    return open_work_order(channel="hotline", order_type="complaint", created_at=at, **kw).order


# --- working days --------------------------------------------------------------------------


def test_cn_complaint_on_friday_is_contacted_by_the_make_up_sunday(cn_network):
    # Friday 18 Sep 2026. The next working day is Sunday 20 Sep, a make-up working day (调休).
    order = complaint(local(SHANGHAI, 2026, 9, 18, 10, 0))
    assert due(order, "contact") == local(SHANGHAI, 2026, 9, 21, 0, 0)
    # Seven working days: 20, 21, 22, 23, 24 Sep, then Friday 25 is Mid-Autumn Festival,
    # 26-27 the weekend, 28 (6th) and 29 (7th): due at the end of Tuesday 29 Sep.
    assert due(order, "reply") == local(SHANGHAI, 2026, 9, 30, 0, 0)


def test_cn_complaint_before_national_day_waits_for_the_holiday_week(cn_network):
    # Wednesday 30 Sep; 1-7 Oct are National Day holidays; Saturday 10 Oct is a make-up day.
    order = complaint(local(SHANGHAI, 2026, 9, 30, 16, 30))
    assert due(order, "contact") == local(SHANGHAI, 2026, 10, 9, 0, 0)  # end of Thu 8 Oct
    # 8, 9, 10 (Sat, make-up), 12, 13, 14, 15 Oct.
    assert due(order, "reply") == local(SHANGHAI, 2026, 10, 16, 0, 0)


def test_il_complaint_on_thursday_skips_the_friday_saturday_weekend(utility):
    order = complaint(local(JERUSALEM, 2026, 11, 19, 9, 0))
    # Two working days: Sunday 22 and Monday 23 Nov; due at the end of Monday.
    assert due(order, "contact") == local(JERUSALEM, 2026, 11, 24, 0, 0)
    assert due(order, "contact") == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


def test_il_complaint_skips_yom_kippur(utility):
    # Sunday 20 Sep 2026; Monday 21 is Yom Kippur: Tuesday 22 (1st), Wednesday 23 (2nd).
    order = complaint(local(JERUSALEM, 2026, 9, 20, 12, 0))
    assert due(order, "contact") == local(JERUSALEM, 2026, 9, 24, 0, 0)


# --- calendar time and clocks that wait for another ----------------------------------------


def test_cn_fault_in_the_city_crew_within_45_minutes_power_within_3_hours_of_arrival(
    cn_network, make_customer
):
    from voltdesk.customers.models import Site

    customer = make_customer()
    Site.objects.filter(customer=customer).update(feeder=cn_network["f1"], area=cn_network["city"])
    site = customer.sites.get()
    at = local(SHANGHAI, 2026, 7, 15, 10, 0)
    order = open_work_order(channel="hotline", order_type="fault", site=site, created_at=at).order
    assert due(order, "arrive") == local(SHANGHAI, 2026, 7, 15, 10, 45)
    assert due(order, "restore") is None  # counts from the crew's arrival

    transition(order, "accept", at=at + timedelta(minutes=5))
    transition(order, "start", at=at + timedelta(minutes=30))
    restore = Deadline.objects.get(work_order=order, clock="restore")
    assert restore.due_at == local(SHANGHAI, 2026, 7, 15, 13, 30)
    assert Deadline.objects.get(work_order=order, clock="arrive").met_at == at + timedelta(
        minutes=30
    )


def test_cn_remote_area_gets_two_hours_and_a_club_member_gets_less(
    cn_network, make_customer, member
):
    from voltdesk.customers.models import Site

    at = local(SHANGHAI, 2026, 7, 15, 10, 0)
    plain, vip = make_customer(), make_customer()
    member(vip)
    Site.objects.filter(customer__in=[plain, vip]).update(
        feeder=cn_network["fr"], area=cn_network["remote"]
    )
    o1 = open_work_order(
        channel="hotline", order_type="fault", site=plain.sites.get(), created_at=at
    ).order
    o2 = open_work_order(
        channel="hotline", order_type="fault", site=vip.sites.get(), created_at=at
    ).order
    assert due(o1, "arrive") == at + timedelta(minutes=120)
    assert due(o2, "arrive") == at + timedelta(minutes=90)
    assert (o1.is_member, o2.is_member) == (False, True)


@pytest.mark.parametrize(
    ("kind", "voltage", "days", "expected_day"),
    [
        # Monday 13 Jul 2026; working days Mon-Fri, no holiday until October.
        ("residential", "low", 5, 20),  # 14, 15, 16, 17, 20 → end of Mon 20 Jul
        ("business", "low", 6, 21),  # … 21 → end of Tue 21 Jul
        ("business", "high", 22, None),
    ],
)
def test_cn_new_connection_by_customer_kind_and_voltage(
    cn_network, make_customer, kind, voltage, days, expected_day
):
    from voltdesk.customers.models import Site

    customer = make_customer(kind=kind)
    Site.objects.filter(customer=customer).update(area=cn_network["city"], voltage_level=voltage)
    at = local(SHANGHAI, 2026, 7, 13, 9, 0)
    order = open_work_order(
        channel="hall",
        order_type="business",
        subtype="new_connection",
        site=customer.sites.get(),
        created_at=at,
    ).order
    policy = Deadline.objects.get(work_order=order, clock="complete").policy
    assert policy.working_days == days
    if expected_day:
        assert due(order, "complete") == local(SHANGHAI, 2026, 7, expected_day + 1, 0, 0)


# --- the watch ------------------------------------------------------------------------------


def test_the_watch_escalates_once_before_the_breach_and_marks_the_breach(cn_network):
    at = local(SHANGHAI, 2026, 7, 15, 10, 0)
    order = open_work_order(
        channel="hotline", order_type="fault", feeder=cn_network["f1"], created_at=at
    ).order
    # Crew due 10:45, warned 15 minutes before.
    assert sla.watch_sla(at + timedelta(minutes=20)) == {
        "warned": 0,
        "escalated_orders": 0,
        "breached": 0,
    }
    assert sla.sla_state(order, at + timedelta(minutes=20)) == "ok"
    assert sla.watch_sla(at + timedelta(minutes=31))["escalated_orders"] == 1
    assert sla.watch_sla(at + timedelta(minutes=32))["escalated_orders"] == 0  # once
    assert sla.sla_state(order, at + timedelta(minutes=31)) == "warning"
    order.refresh_from_db()
    assert order.escalation_level == 1
    assert Transition.objects.filter(work_order=order, action="escalate", actor=None).count() == 1

    assert sla.watch_sla(at + timedelta(minutes=46))["breached"] == 1
    assert sla.watch_sla(at + timedelta(minutes=50))["breached"] == 0
    assert sla.sla_state(order, at + timedelta(minutes=46)) == "breached"


def test_a_met_clock_is_neither_warned_nor_breached(cn_network):
    at = local(SHANGHAI, 2026, 7, 15, 10, 0)
    order = open_work_order(
        channel="hotline", order_type="fault", feeder=cn_network["f1"], created_at=at
    ).order
    transition(order, "accept", at=at)
    transition(order, "start", at=at + timedelta(minutes=10))
    result = sla.watch_sla(at + timedelta(minutes=60))
    assert result["breached"] == 0 and result["warned"] == 0


def test_profiles_ship_the_published_commitments(utility_cn):
    rows = {
        (p.order_type, p.clock, p.area_kind, p.members_only): p.minutes
        for p in SlaPolicy.objects.filter(basis="calendar", members_only=False)
    }
    assert rows[("fault", "arrive", "urban", False)] == 45
    assert rows[("fault", "arrive", "rural", False)] == 90
    assert rows[("fault", "arrive", "remote", False)] == 120
    assert rows[("fault", "restore", "urban", False)] == 180
    assert rows[("fault", "restore", "rural", False)] == 240
