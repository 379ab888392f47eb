"""Excess-demand events: scope, rotating schedule, call lists, warnings in the outbox, banner.

The network: region North with area Haifa (feeders H1, H2, H3; H3 serves a
hospital) and area Akko (feeder A1); region South with area Eilat (feeder E1).
An event from 14:00 to 18:00 local with 2-hour blocks has two blocks; the
sheddable feeders of North in network order (Akko A1, then Haifa H1, H2) go off
in block 1, 2, 1: A1 14–16, H1 16–18, H2 14–16, and H3 never.
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import utility_zone
from voltdesk.customers.models import Site
from voltdesk.demand import fanout, services
from voltdesk.demand.choices import CallOutcome, EventKind, Severity
from voltdesk.demand.models import CallListEntry, EventWarning, SheddingWindow
from voltdesk.keyaccounts.choices import MembershipStatus
from voltdesk.keyaccounts.models import AccountManager, Membership
from voltdesk.keyaccounts.portfolio import assign_manager
from voltdesk.notifications.models import Message


def local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=utility_zone())


@pytest.fixture
def grid(utility, make_customer, make_user):
    north = Region.objects.create(name="North")
    south = Region.objects.create(name="South")
    haifa = Area.objects.create(region=north, name="Haifa", kind="urban")
    akko = Area.objects.create(region=north, name="Akko", kind="rural")
    eilat = Area.objects.create(region=south, name="Eilat", kind="remote")
    f = {
        name: Feeder.objects.create(area=area, name=name)
        for name, area in [("H1", haifa), ("H2", haifa), ("H3", haifa), ("A1", akko), ("E1", eilat)]
    }

    def customer(name, feeder, language, phone="", email="", kind="residential", critical=False):
        c = make_customer(name=name, kind=kind, language=language, phone=phone, email=email)
        Site.objects.filter(customer=c).update(
            feeder=f[feeder], area=f[feeder].area, critical_load=critical
        )
        return c

    w = SimpleNamespace(north=north, south=south, haifa=haifa, akko=akko, feeders=f)
    w.noa = customer("Noa", "H1", "he", phone="+972501234567", email="noa@example.com")
    w.li = customer("Li Wei", "A1", "zh-hans", phone="+972501234568")
    w.sam = customer("Sam", "H2", "en", email="sam@example.com")
    w.hospital = customer(
        "Rambam", "H3", "he", phone="+972501234569", kind="business", critical=True
    )
    w.eilat = customer("Eilat Fish", "E1", "en", phone="+972501234570")
    w.factory = customer("Haifa Steel", "H1", "en", phone="+972501234571", kind="business")
    Membership.objects.create(
        customer=w.factory,
        status=MembershipStatus.MEMBER,
        since=dt.date(2026, 1, 1),
        annual_kwh=2_000_000,
        site_count=1,
    )
    manager_user = make_user(roles.ACCOUNT_MANAGER, username="dana")
    w.dana = AccountManager.objects.create(user=manager_user, phone="+972501110000")
    assign_manager(w.factory, manager=w.dana, reason="test")
    w.demand = make_user(roles.DEMAND_MANAGER, username="omer")
    w.tomorrow = timezone.localdate() + dt.timedelta(days=3)
    return w


def declare(grid, **fields):
    request = services.EventRequest(
        title=fields.pop("title", "Heat wave"),
        starts_at=fields.pop("starts_at", local(grid.tomorrow, 14)),
        ends_at=fields.pop("ends_at", local(grid.tomorrow, 18)),
        regions=fields.pop("regions", (grid.north,)),
        **fields,
    )
    return services.declare_event(request, actor=grid.demand)


def test_the_rotation_never_sheds_a_critical_load_and_gives_each_feeder_one_turn(grid):
    event = declare(grid)
    windows = {
        w.feeder.name: (
            w.starts_at.astimezone(utility_zone()).hour,
            w.ends_at.astimezone(utility_zone()).hour,
        )
        for w in SheddingWindow.objects.filter(event=event).select_related("feeder")
    }
    assert windows == {"A1": (14, 16), "H1": (16, 18), "H2": (14, 16)}
    affected = {a.feeder.name: a.critical_load for a in event.affected.select_related("feeder")}
    assert affected == {"A1": False, "H1": False, "H2": False, "H3": True}


def test_club_members_go_to_their_managers_call_list_and_the_others_get_sms_in_their_language(
    grid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = declare(grid)
    call = CallListEntry.objects.get(event=event)
    assert call.customer == grid.factory and call.manager == grid.dana
    # 24 hours before a start more than a day away.
    assert call.due_at == event.starts_at - dt.timedelta(hours=24)
    sms = {m.customer.name: m for m in Message.objects.filter(channel="sms")}
    # Noa (he), Li Wei (zh-hans) and the hospital; not Eilat (other region), not the member.
    assert set(sms) == {"Noa", "Li Wei", "Rambam"}
    assert sms["Noa"].language == "he" and sms["Li Wei"].language == "zh-hans"
    assert "16:00" in sms["Noa"].body and "18:00" in sms["Noa"].body
    assert "14:00" in sms["Li Wei"].body and "16:00" in sms["Li Wei"].body
    # The hospital's feeder is never off: it is asked to reduce, no window.
    assert sms["Rambam"].body != sms["Noa"].body
    emails = set(Message.objects.filter(channel="email").values_list("customer__name", flat=True))
    assert emails == {"Noa", "Sam"}
    assert EventWarning.objects.filter(event=event).count() == 5


def test_running_a_range_twice_sends_nothing_twice(grid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = declare(grid)
    before = Message.objects.count()
    plan = fanout.plan_ranges(event)
    for lo, hi in plan.ranges:
        assert fanout.warn_range(event.pk, lo, hi) == 0
    assert Message.objects.count() == before
    assert EventWarning.objects.filter(event=event).count() == 5


def test_the_managers_call_is_the_acknowledgement_and_the_member_then_gets_it_in_writing(
    grid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = declare(grid)
    call = CallListEntry.objects.get(event=event)
    with pytest.raises(services.DemandError, match="outcome"):
        services.record_call(call, outcome="maybe", actor=grid.dana.user)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_call(call, outcome=CallOutcome.REACHED, actor=grid.dana.user)
    call.refresh_from_db()
    assert call.acknowledged_at is not None
    assert Message.objects.filter(customer=grid.factory, channel="sms").count() == 1
    with pytest.raises(services.DemandError, match="already acknowledged"):
        services.record_call(call, outcome=CallOutcome.REACHED, actor=grid.dana.user)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"regions": ()}, "scope"),
        ({"ends_at": "start"}, "ends_at"),
        ({"starts_at": "past"}, "starts_at"),
        ({"rotation_minutes": 5}, "rotation_minutes"),
    ],
)
def test_a_bad_event_is_refused_naming_the_field_and_nothing_is_written(grid, fields, field):
    if fields.get("ends_at") == "start":
        fields["ends_at"] = local(grid.tomorrow, 14)
    if fields.get("starts_at") == "past":
        fields["starts_at"] = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(services.DemandError, match=field):
        declare(grid, **fields)
    assert not SheddingWindow.objects.exists() and not CallListEntry.objects.exists()


def test_a_planned_outage_needs_the_profiles_notice(grid):
    with pytest.raises(services.DemandError, match="7 days ahead"):
        declare(grid, kind=EventKind.PLANNED_OUTAGE)
    start = local(timezone.localdate() + dt.timedelta(days=8), 9)
    event = declare(
        grid, kind=EventKind.PLANNED_OUTAGE, starts_at=start, ends_at=start + dt.timedelta(hours=4)
    )
    assert event.windows.exists()


def test_an_advisory_switches_nothing_off(grid):
    event = declare(grid, severity=Severity.ADVISORY)
    assert not event.windows.exists()


def test_the_portal_shows_the_banner_with_the_customers_own_windows_only(grid, make_user, client):
    declare(grid)
    noa = make_user(roles.CUSTOMER, username="noa", customer=grid.noa)
    client.force_login(noa)
    page = client.get(reverse("portal:home")).content.decode()
    # Noa's feeder H1 is off 16:00-18:00 local (English: 4 p.m.-6 p.m.).
    assert "data-demand-event" in page and grid.noa.sites.first().ref in page
    assert "4 p.m.–6 p.m." in page
    assert grid.li.sites.first().ref not in page
    eilat = make_user(roles.CUSTOMER, username="eilat", customer=grid.eilat)
    client.force_login(eilat)
    assert "data-demand-event" not in client.get(reverse("portal:home")).content.decode()


def test_desk_pages(grid, client, make_user, django_capture_on_commit_callbacks):
    client.force_login(grid.demand)
    start = timezone.localtime(timezone.now() + dt.timedelta(days=2)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    form = {
        "title": "Heat wave",
        "kind": "excess_demand",
        "severity": "shedding",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
        "rotation_minutes": "120",
        "areas": [grid.haifa.pk],
    }
    bad = client.post(reverse("desk:demand:events"), {**form, "areas": []})
    assert bad.status_code == 400 and "scope" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("desk:demand:events"), form)
    assert response.status_code == 302
    event_url = response["Location"]
    page = client.get(event_url).content.decode()
    assert 'data-unreached="' + grid.factory.ref in page
    assert 'data-window="H1"' in page and 'data-window="H3"' not in page
    # The account manager records the call from the call list.
    client.force_login(grid.dana.user)
    calls = client.get(reverse("desk:demand:calls")).content.decode()
    assert f'data-call="{grid.factory.ref}"' in calls
    entry = CallListEntry.objects.get()
    assert (
        client.post(
            reverse("desk:demand:record_call", args=[entry.pk]), {"outcome": "x"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            reverse("desk:demand:record_call", args=[entry.pk]), {"outcome": "reached"}
        ).status_code
        == 302
    )
    # An agent reads no events; another manager cannot record this member's call.
    other = make_user(roles.ACCOUNT_MANAGER, username="yossi")
    AccountManager.objects.create(user=other, phone="+972501110001")
    client.force_login(other)
    assert (
        client.post(
            reverse("desk:demand:record_call", args=[entry.pk]), {"outcome": "reached"}
        ).status_code
        == 404
    )
    customer_user = make_user(roles.CUSTOMER, username="noa2", customer=grid.noa)
    client.force_login(customer_user)
    assert client.get(event_url).status_code == 403
    assert client.get(reverse("desk:demand:calls")).status_code == 403
