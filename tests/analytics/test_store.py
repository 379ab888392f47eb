"""The analytics store: what a full build holds, what a refresh picks up, and failures."""

import datetime as dt
from datetime import UTC

import pytest
from django.core.management import call_command
from django.utils import timezone

from voltdesk.analytics import store
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.workorders import lifecycle
from voltdesk.workorders.models import Deadline, Transition, WorkOrder


@pytest.fixture
def analytics_store(settings, tmp_path):
    settings.ANALYTICS_STORE = str(tmp_path / "analytics" / "workorders.duckdb")
    store.forget_readers()
    yield tmp_path / "analytics" / "workorders.duckdb"
    store.forget_readers()


@pytest.fixture
def network(utility):
    north = Region.objects.create(name="Test North")
    south = Region.objects.create(name="Test South")
    haifa = Area.objects.create(region=north, name="Test Haifa", kind="urban")
    galil = Area.objects.create(region=north, name="Test Galil", kind="rural")
    negev = Area.objects.create(region=south, name="Test Negev", kind="remote")
    feeder = Feeder.objects.create(area=haifa, name="Test HF-1")
    return {
        "north": north,
        "south": south,
        "haifa": haifa,
        "galil": galil,
        "negev": negev,
        "feeder": feeder,
    }


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A UTC moment (10:00 UTC is 12:00 in Jerusalem in winter)."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def order(kind="fault", when="2026-01-05", channel="hotline", area=None, **fields) -> WorkOrder:
    created = when if isinstance(when, dt.datetime) else at(when)
    return WorkOrder.objects.create(
        order_type=kind, channel=channel, created_at=created, area=area, **fields
    )


def rows(where: str = "TRUE", columns: str = "*") -> list[dict]:
    con = store.reader()
    result = con.execute(f"SELECT {columns} FROM orders WHERE {where} ORDER BY id")
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_full_build_holds_local_calendar_network_sla_and_flags(analytics_store, network):
    haifa, feeder = network["haifa"], network["feeder"]
    # 22:30 UTC on 9 March is 00:30 on the 10th in Jerusalem (UTC+2 in winter).
    late = order(
        when=at("2026-03-09", 22, 30), feeder=feeder, caller_phone="+972501111111", satisfaction=4
    )
    Deadline.objects.create(
        work_order=late,
        clock="arrive",
        due_at=at("2026-03-09", 23),
        met_at=at("2026-03-09", 22, 50),
    )  # met in time
    Deadline.objects.create(
        work_order=late, clock="restore", due_at=at("2026-03-10", 2), met_at=at("2026-03-10", 3)
    )  # met an hour late
    Deadline.objects.create(work_order=late, clock="contact", due_at=None)  # waits: not owed
    overdue = order(kind="complaint", when="2026-03-11", area=haifa)
    Deadline.objects.create(work_order=overdue, clock="reply", due_at=at("2026-03-12"))
    future = order(kind="business", when=timezone.now() - dt.timedelta(hours=1), area=haifa)
    Deadline.objects.create(
        work_order=future, clock="complete", due_at=timezone.now() + dt.timedelta(days=5)
    )
    reopened = order(when="2026-03-12", area=haifa)
    Transition.objects.create(
        work_order=reopened, action="reopen", from_status="resolved", to_status="accepted"
    )

    result = store.refresh(full=True)

    assert result.mode == "full" and result.orders == 4
    first, second, third, fourth = rows()
    assert (first["day"], first["hour"], first["weekday"], first["month"], first["year"]) == (
        dt.date(2026, 3, 10),
        0,
        2,
        3,
        2026,
    )  # a Tuesday
    # The order names only a feeder: its area and region come from the feeder.
    assert (first["feeder_name"], first["area_name"], first["region_name"]) == (
        "Test HF-1",
        "Test Haifa",
        "Test North",
    )
    assert (first["sla_arrive"], first["sla_restore"], first["sla_contact"]) == (1, 0, None)
    assert (first["sla_met"], first["sla_counted"]) == (1, 2)
    assert first["caller_phone"] == "+972501111111" and first["satisfaction"] == 4
    assert second["sla_reply"] == 0  # past due and never met: breached
    assert third["sla_complete"] is None and third["sla_counted"] == 0  # not due yet
    assert fourth["reopened"] is True and first["reopened"] is False
    assert store.info().as_of <= timezone.now()


def test_repeat_contact_within_30_days_by_phone_or_site(analytics_store, network, make_customer):
    site = make_customer().sites.get()
    phone = "+972502222222"
    first = order(when=at("2026-01-05", 9), caller_phone=phone)
    again_30 = order(when=at("2026-02-04", 9), caller_phone=phone)  # 30 days later: a repeat
    again_31 = order(when=at("2026-03-07", 9), caller_phone=phone)  # 31 days after that: not
    site_first = order(when="2026-01-10", site=site)
    site_again = order(when="2026-01-29", site=site, caller_phone="+972503333333")  # 19 days
    other = order(when="2026-01-06", caller_phone="+972504444444")

    store.refresh(full=True)

    flags = {r["id"]: (r["repeat_phone"], r["repeat_site"]) for r in rows()}
    assert flags[first.pk] == (False, False)
    assert flags[again_30.pk] == (True, False)
    assert flags[again_31.pk] == (False, False)
    assert flags[site_first.pk] == (False, False)
    assert flags[site_again.pk] == (False, True)
    assert flags[other.pk] == (False, False)


def test_incremental_refresh_picks_up_new_changed_and_newly_overdue_orders(
    analytics_store, network, make_user
):
    phone = "+972505555555"
    kept = order(when="2026-01-05", caller_phone=phone)
    changed = order(when="2026-01-20", area=network["haifa"])
    due_soon = order(kind="complaint", when="2026-01-21")
    deadline = Deadline.objects.create(
        work_order=due_soon, clock="reply", due_at=timezone.now() + dt.timedelta(days=1)
    )
    first = store.refresh(full=True)
    assert first.orders == 3
    assert rows(f"id = {due_soon.pk}")[0]["sla_reply"] is None

    # A lifecycle change moves updated_at; a new order arrives; a deadline falls due
    # (time passing changes no row: here its due time is moved into the past).
    lifecycle.transition(changed, "accept", actor=make_user("agent"))
    new = order(when="2026-01-25", caller_phone=phone)  # 20 days after ``kept``: a repeat
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))

    second = store.refresh()

    assert second.mode == "incremental"
    assert second.orders == 4
    assert second.changed < 4 + 1  # only what changed, and the overlap, was read again
    by_id = {r["id"]: r for r in rows()}
    assert by_id[changed.pk]["status"] == "accepted"
    assert by_id[new.pk]["repeat_phone"] is True
    assert by_id[due_soon.pk]["sla_reply"] == 0
    assert by_id[kept.pk]["repeat_phone"] is False


def test_incremental_refresh_recomputes_repeats_when_a_phone_changes(analytics_store, network):
    first = order(when="2026-01-05", caller_phone="+972506666666")
    second = order(when="2026-01-15", caller_phone="+972506666666")
    store.refresh(full=True)
    assert rows(f"id = {second.pk}")[0]["repeat_phone"] is True

    # The first contact is corrected to another caller: the second no longer repeats it.
    first.caller_phone = "+972507777777"
    first.save()
    store.refresh()

    assert rows(f"id = {second.pk}")[0]["repeat_phone"] is False


def test_a_failed_refresh_leaves_the_old_store_readable(analytics_store, network, monkeypatch):
    order(when="2026-01-05")
    before = store.refresh(full=True)
    order(when="2026-01-06")

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store, "_shaped", broken)
    with pytest.raises(RuntimeError):
        store.refresh(full=True)
    with pytest.raises(RuntimeError):
        store.refresh()

    assert store.info().as_of == before.as_of
    assert len(rows()) == 1
    # Nothing half-built is left beside the store: only the file it points at.
    files = [p for p in analytics_store.parent.iterdir() if p.suffix == ".duckdb"]
    assert sorted(files) == sorted([analytics_store, store.current_file()])


def test_readers_see_the_new_store_after_a_refresh_and_old_cursors_keep_working(
    analytics_store, network
):
    order(when="2026-01-05")
    store.refresh(full=True)
    old = store.reader()
    order(when="2026-01-06")
    store.refresh(full=True)

    assert old.execute("SELECT count(*) FROM orders").fetchone()[0] == 1
    assert store.reader().execute("SELECT count(*) FROM orders").fetchone()[0] == 2


def test_first_use_builds_the_store_and_the_command_refreshes_it(analytics_store, network):
    order(when="2026-01-05")
    assert not analytics_store.exists()
    store.ensure()
    assert analytics_store.exists()
    order(when="2026-01-06")

    call_command("refresh_analytics", "--full")

    assert store.info().mode == "full" and store.info().orders == 2
    call_command("refresh_analytics")
    assert store.info().mode == "incremental"


def test_customers_are_counted_per_area_of_their_sites(analytics_store, network, make_customer):
    from voltdesk.customers.models import Site

    a = make_customer(sites=2)
    make_customer(sites=0)
    Site.objects.filter(customer=a).update(area=network["haifa"])
    store.refresh(full=True)
    con = store.reader()
    assert con.execute("SELECT count(DISTINCT customer_id) FROM customers").fetchone()[0] == 2
    assert (
        con.execute(
            "SELECT count(DISTINCT customer_id) FROM customers WHERE area_id = ?",
            [network["haifa"].pk],
        ).fetchone()[0]
        == 1
    )
