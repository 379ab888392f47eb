"""OpenADR 2.0b: the VTN sends excess-demand events to real openleadr VENs on 127.0.0.1.

The network: region North with area Haifa (feeders H1, H2) and area Akko
(feeder A1); region South with area Eilat (feeder E1). An event for North from
14:00 to 18:00 local with 2-hour blocks sheds, in network order, A1 14–16,
H1 16–18 and H2 14–16 (see test_events.py).

* Haifa Steel's VEN ``steel-ems`` serves its sites S-STEEL-1 (H1) and
  S-STEEL-2 (E1, not affected): SIMPLE level 2 from 14 to 16 (the grid is
  short), level 3 from 16 to 18 (its feeder is off); it opts in.
* Akko Cold's VEN ``cold-ems`` (A1): level 3 from 14 to 16, level 2 after; it
  opts out.
* Eilat Hotel's VEN ``hotel-ems`` (E1 only) gets nothing.
"""

import asyncio
import datetime as dt
import socket
import threading
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from openleadr import OpenADRClient

from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import utility_zone
from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.demand import openadr, services
from voltdesk.demand.choices import Severity, WarningChannel
from voltdesk.demand.models import (
    DeliveryStatus,
    EventWarning,
    VenDelivery,
    VenRegistration,
    VenReport,
)
from voltdesk.demand.vtn import VoltDeskVTN

TIMEOUT = 15  # seconds to wait for any one exchange; a healthy run takes 1–3 s


def local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=utility_zone())


def run_apart(scenario, timeout: float):
    """Run ``scenario()`` in an event loop of its own thread and return its result.

    The browser tests' Playwright keeps an event loop running in the main thread for
    the whole session, where ``asyncio.run`` would refuse to start another.
    """
    outcome = {}

    def main():
        try:
            outcome["value"] = asyncio.run(asyncio.wait_for(scenario(), timeout))
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=main, name="openadr-scenario")
    thread.start()
    thread.join(timeout + 10)
    assert not thread.is_alive(), "the OpenADR scenario did not end"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def grid(utility):
    north = Region.objects.create(name="North")
    south = Region.objects.create(name="South")
    haifa = Area.objects.create(region=north, name="Haifa", kind="urban")
    akko = Area.objects.create(region=north, name="Akko", kind="rural")
    eilat = Area.objects.create(region=south, name="Eilat", kind="remote")
    f = {
        name: Feeder.objects.create(area=area, name=name)
        for name, area in [("H1", haifa), ("H2", haifa), ("A1", akko), ("E1", eilat)]
    }

    def customer(ref, name, sites):
        c = Customer.objects.create(ref=ref, name=name, kind="business")
        for site_ref, feeder in sites:
            site = Site.objects.create(
                ref=site_ref, customer=c, feeder=f[feeder], area=f[feeder].area
            )
            Contract.objects.create(customer=c, site=site)
        return c

    w = SimpleNamespace(north=north, feeders=f)
    w.steel = customer("C-STEEL", "Haifa Steel", [("S-STEEL-1", "H1"), ("S-STEEL-2", "E1")])
    w.cold = customer("C-COLD", "Akko Cold", [("S-COLD-1", "A1")])
    w.hotel = customer("C-HOTEL", "Eilat Hotel", [("S-HOTEL-1", "E1")])
    # Tomorrow: a report sent now falls within the two days before the event.
    w.day = timezone.localdate() + dt.timedelta(days=1)
    return w


def declare(grid, **fields):
    request = services.EventRequest(
        title=fields.pop("title", "Heat wave"),
        starts_at=fields.pop("starts_at", local(grid.day, 14)),
        ends_at=fields.pop("ends_at", local(grid.day, 18)),
        regions=fields.pop("regions", (grid.north,)),
        **fields,
    )
    event = services.declare_event(request)
    # declare_event's on-commit hook queues it; these tests run without commits.
    openadr.queue_for_event(event)
    return event


def hours(intervals) -> list[tuple[int, int, int]]:
    zone = utility_zone()
    return [
        (s.astimezone(zone).hour, e.astimezone(zone).hour, level)
        for s, e, level in openadr.parse_intervals(intervals)
    ]


# --- the rules, without a network ------------------------------------------------------------


@pytest.mark.django_db
def test_register_ven_prints_its_ids_and_bad_refs_name_the_field(grid, capsys):
    call_command(
        "register_ven", "--customer", "C-STEEL", "--site", "S-STEEL-1", "--name", "steel-ems"
    )
    ven = VenRegistration.objects.get(ven_name="steel-ems")
    out = capsys.readouterr().out
    assert f"ven_id {ven.ven_id}" in out and f"registration_id {ven.registration_id}" in out
    assert list(ven.sites.values_list("ref", flat=True)) == ["S-STEEL-1"]

    with pytest.raises(CommandError, match="customer: no customer has the number C-NOPE"):
        call_command("register_ven", "--customer", "C-NOPE", "--site", "S-1", "--name", "x")
    # Another customer's site is refused: a VEN only ever hears about its own sites.
    with pytest.raises(CommandError, match="site: not a site of customer C-STEEL: S-COLD-1"):
        call_command(
            "register_ven", "--customer", "C-STEEL", "--site", "S-COLD-1", "--name", "other"
        )
    with pytest.raises(CommandError, match="name: a VEN named steel-ems is already registered"):
        call_command(
            "register_ven", "--customer", "C-STEEL", "--site", "S-STEEL-2", "--name", "steel-ems"
        )
    with pytest.raises(CommandError, match="site: name at least one"):
        call_command("register_ven", "--customer", "C-STEEL", "--name", "no-sites")
    assert VenRegistration.objects.count() == 1


@pytest.mark.django_db
def test_each_ven_gets_its_own_sites_windows_as_simple_levels(grid):
    steel = openadr.register_ven(
        customer_ref="C-STEEL", site_refs=["S-STEEL-1", "S-STEEL-2"], name="steel-ems"
    )
    cold = openadr.register_ven(customer_ref="C-COLD", site_refs=["S-COLD-1"], name="cold-ems")
    hotel = openadr.register_ven(customer_ref="C-HOTEL", site_refs=["S-HOTEL-1"], name="hotel-ems")
    event = declare(grid)
    assert set(openadr.vens_for_event(event)) == {steel, cold}
    rows = {d.ven.ven_name: d for d in VenDelivery.objects.filter(event=event)}
    assert set(rows) == {"steel-ems", "cold-ems"}
    assert hours(rows["steel-ems"].intervals) == [(14, 16, 2), (16, 18, 3)]
    assert hours(rows["cold-ems"].intervals) == [(14, 16, 3), (16, 18, 2)]
    # Only the affected site is a target: S-STEEL-2 is in Eilat.
    assert rows["steel-ems"].site_refs == ["S-STEEL-1"]
    assert rows["steel-ems"].signal_level == 3
    assert not VenDelivery.objects.filter(ven=hotel).exists()
    # Queuing twice (a retried hook) adds nothing.
    assert openadr.queue_for_event(event) == 0

    advisory = declare(grid, title="Please save", severity=Severity.ADVISORY)
    delivery = VenDelivery.objects.get(event=advisory, ven=steel)
    assert hours(delivery.intervals) == [(14, 18, 1)] and delivery.signal_level == 1

    summary = openadr.ven_summary(event)
    assert summary["total"] == 2 and summary["counts"]["pending"] == 2
    assert [r["ven_name"] for r in summary["rows"]] == ["cold-ems", "steel-ems"]


@pytest.mark.django_db
def test_declaring_queues_the_vens_and_the_event_page_shows_them(
    grid, make_user, client, django_capture_on_commit_callbacks
):
    openadr.register_ven(customer_ref="C-STEEL", site_refs=["S-STEEL-1"], name="steel-ems")
    request = services.EventRequest(
        title="Heat wave",
        starts_at=local(grid.day, 14),
        ends_at=local(grid.day, 18),
        regions=(grid.north,),
    )
    with django_capture_on_commit_callbacks(execute=True):
        event = services.declare_event(request)
    delivery = VenDelivery.objects.get(event=event)
    assert delivery.ven.ven_name == "steel-ems" and delivery.status == "pending"

    client.force_login(make_user(roles.DEMAND_MANAGER, username="omer"))
    page = client.get(reverse("desk:demand:event", args=[event.pk])).content.decode()
    assert 'data-ven="steel-ems"' in page and 'data-ven-status="pending"' in page

    services.cancel_event(event)
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"


@pytest.mark.django_db
def test_the_vtn_accepts_only_a_registered_active_ven_with_its_certificate(grid):
    ven = openadr.register_ven(
        customer_ref="C-COLD",
        site_refs=["S-COLD-1"],
        name="cold-ems",
        fingerprint="aa:bb:cc:dd:ee:ff:00:11:22:33",
    )
    tls = "AA:BB:CC:DD:EE:FF:00:11:22:33"
    assert openadr.accept_registration(ven_name="cold-ems", fingerprint=tls) == (
        ven.ven_id,
        ven.registration_id,
    )
    assert openadr.ven_lookup(ven.ven_id)["fingerprint"] == tls
    # Another certificate, another VEN's id, an unknown name: refused.
    assert openadr.accept_registration(ven_name="cold-ems", fingerprint="00:" * 9 + "00") is None
    assert openadr.accept_registration(ven_name="cold-ems", ven_id="ven-other") is None
    assert openadr.accept_registration(ven_name="stranger") is None
    VenRegistration.objects.filter(pk=ven.pk).update(active=False)
    assert openadr.accept_registration(ven_name="cold-ems", fingerprint=tls) is None
    assert openadr.ven_lookup(ven.ven_id) is None


def test_overlapping_windows_merge_and_gaps_are_level_two():
    day = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    event = SimpleNamespace(
        starts_at=day.replace(hour=10), ends_at=day.replace(hour=20), severity=Severity.SHEDDING
    )
    windows = [
        (day.replace(hour=12), day.replace(hour=14)),
        (day.replace(hour=13), day.replace(hour=15)),
        (day.replace(hour=18), day.replace(hour=21)),  # past the end: cut at 20
    ]
    got = [
        (s.hour, e.hour, level)
        for s, e, level in openadr.parse_intervals(openadr.event_intervals(event, windows))
    ]
    assert got == [(10, 12, 2), (12, 15, 3), (15, 18, 2), (18, 20, 3)]


@pytest.mark.django_db
def test_a_report_counts_for_the_event_in_whose_window_or_before_which_it_falls(grid):
    ven = openadr.register_ven(customer_ref="C-COLD", site_refs=["S-COLD-1"], name="cold-ems")
    event = declare(grid)
    during = local(grid.day, 15)
    before = local(grid.day, 9)
    long_before = event.starts_at - dt.timedelta(days=3)
    stored = openadr.record_report(
        ven_id=ven.ven_id,
        values=[(during, 850.0), (before, 1200.0), (long_before, 1300.0)],
        resource_id="S-COLD-1",
        measurement="RealPower",
        unit="W",
        scale="k",
    )
    assert stored == 3
    by_value = {r.value: r for r in VenReport.objects.all()}
    assert by_value[850.0].event == event and by_value[850.0].kw == 850.0
    assert by_value[1200.0].event == event
    assert by_value[1300.0].event is None
    assert openadr.ven_summary(event)["rows"][0]["last_kw"] == 850.0
    with pytest.raises(openadr.OpenADRError, match="ven_id"):
        openadr.record_report(ven_id="ven-unknown", values=[(during, 1.0)])


@pytest.mark.django_db
def test_seed_demo_vens_registers_one_ven_for_a_business_customer_once(grid, utility):
    first = openadr.seed_demo_vens(utility)
    assert [v.ven_name for v in first] == ["demo-ems"]
    ven = first[0]
    assert ven.customer.kind == "business"
    assert set(ven.sites.values_list("customer", flat=True)) == {ven.customer.pk}
    assert openadr.seed_demo_vens(utility) == [ven]


# --- a real VTN and real VENs on 127.0.0.1 -----------------------------------------------------


class Ven:
    """A real openleadr VEN that answers every new event with ``answer``."""

    def __init__(self, name: str, url: str, answer: str, report_kw: float | None = None):
        self.client = OpenADRClient(ven_name=name, vtn_url=url, show_fingerprint=False)
        self.answer = answer
        self.events: list[dict] = []
        self.updates: list[dict] = []
        self.changed = asyncio.Event()
        self.client.add_handler("on_event", self.on_event)
        self.client.add_handler("on_update_event", self.on_update_event)
        if report_kw is not None:
            self.client.add_report(
                callback=lambda: report_kw,
                resource_id="meter",
                measurement="REAL_POWER",
                unit="W",
                scale="k",
                sampling_rate=dt.timedelta(seconds=1),
                report_duration=dt.timedelta(seconds=1),
            )

    async def on_event(self, event):
        self.events.append(event)
        self.changed.set()
        return self.answer

    async def on_update_event(self, event):
        self.updates.append(event)
        self.changed.set()
        return self.answer


async def until(predicate, timeout=TIMEOUT, step=0.1):
    """Wait until ``await predicate()`` is true, at most ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__doc__}")


@sync_to_async
def statuses(event_id):
    return dict(
        VenDelivery.objects.filter(event_id=event_id).values_list("ven__ven_name", "status")
    )


@pytest.mark.django_db(transaction=True)
def test_vens_receive_the_event_answer_report_and_hear_the_cancellation(grid):
    for customer, site, name in [
        ("C-STEEL", "S-STEEL-1", "steel-ems"),
        ("C-COLD", "S-COLD-1", "cold-ems"),
        ("C-HOTEL", "S-HOTEL-1", "hotel-ems"),
    ]:
        call_command("register_ven", "--customer", customer, "--site", site, "--name", name)
    event = declare(grid)
    port = free_port()
    url = f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b"

    async def scenario():
        vtn = VoltDeskVTN(
            vtn_id="VOLTDESK-TEST-VTN",
            port=port,
            poll_seconds=0.2,
            ven_poll_seconds=1,
            report_seconds=1,
        )
        stop = asyncio.Event()
        serving = asyncio.create_task(vtn.run(stop))
        vens = {
            "steel-ems": Ven("steel-ems", url, "optIn", report_kw=640.0),
            "cold-ems": Ven("cold-ems", url, "optOut"),
            "hotel-ems": Ven("hotel-ems", url, "optIn"),
        }
        try:
            await until(vtn_is_listening(port))
            for ven in vens.values():
                await ven.client.run()

            async def both_answered():
                """steel-ems opted in and cold-ems opted out"""
                return await statuses(event.pk) == {
                    "steel-ems": DeliveryStatus.OPTED_IN,
                    "cold-ems": DeliveryStatus.OPTED_OUT,
                }

            await until(both_answered)
            steel, cold = vens["steel-ems"].events[0], vens["cold-ems"].events[0]
            assert len(vens["steel-ems"].events) == 1 and len(vens["cold-ems"].events) == 1

            async def reported():
                """a report from steel-ems"""
                return await sync_to_async(
                    VenReport.objects.filter(ven__ven_name="steel-ems", event=event).exists
                )()

            await until(reported)

            # The demand manager cancels; the hook marks the deliveries cancelled.
            await sync_to_async(services.cancel_event)(event)
            await sync_to_async(openadr.cancel_for_event)(event)

            async def cancellation_heard():
                """both VENs received the event as cancelled"""
                return all(
                    any(u["event_descriptor"]["event_status"] == "cancelled" for u in v.updates)
                    for v in (vens["steel-ems"], vens["cold-ems"])
                )

            await until(cancellation_heard)

            async def cancellation_confirmed():
                """the VTN recorded the cancellations as delivered"""
                return (
                    await sync_to_async(
                        VenDelivery.objects.filter(event=event, cancel_sent_at__isnull=True).count
                    )()
                    == 0
                )

            await until(cancellation_confirmed)
            return vens, steel, cold
        finally:
            for ven in vens.values():
                if ven.client.client_session is not None:
                    await ven.client.stop()
            stop.set()
            await asyncio.wait_for(serving, TIMEOUT)

    vens, steel, cold = run_apart(scenario, 50)

    # What the VENs received: their own windows, SIMPLE levels, their own sites as targets.
    def received(oadr_event):
        signal = oadr_event["event_signals"][0]
        assert signal["signal_name"] == "SIMPLE" and signal["signal_type"] == "level"
        zone = utility_zone()
        return [
            (
                i["dtstart"].astimezone(zone).hour,
                (i["dtstart"] + i["duration"]).astimezone(zone).hour,
                i["signal_payload"],
            )
            for i in signal["intervals"]
        ]

    assert received(steel) == [(14, 16, 2.0), (16, 18, 3.0)]
    assert received(cold) == [(14, 16, 3.0), (16, 18, 2.0)]
    assert {"resource_id": "S-STEEL-1"} in [
        {k: v for k, v in t.items() if v is not None} for t in steel["targets"]
    ]
    assert steel["event_descriptor"]["vtn_comment"] == "Heat wave"
    # Another customer's VEN with no site in North heard of nothing.
    assert vens["hotel-ems"].events == [] and vens["hotel-ems"].updates == []

    rows = {d.ven.ven_name: d for d in VenDelivery.objects.filter(event=event)}
    assert set(rows) == {"steel-ems", "cold-ems"}
    assert rows["steel-ems"].opt_type == "optIn" and rows["cold-ems"].opt_type == "optOut"
    assert all(
        r.status == DeliveryStatus.CANCELLED and r.modification_number == 1 for r in rows.values()
    )
    assert all(r.sent_at and r.opted_at and r.cancel_sent_at for r in rows.values())
    report = VenReport.objects.filter(ven__ven_name="steel-ems").first()
    assert report.kw == 640.0 and report.event_id == event.pk and report.resource_id == "meter"
    assert VenRegistration.objects.get(ven_name="steel-ems").registered_at is not None
    # The VENs that received the event count as warned by OpenADR.
    warned = EventWarning.objects.filter(event=event, channel=WarningChannel.OPENADR)
    assert set(warned.values_list("customer__ref", flat=True)) == {"C-STEEL", "C-COLD"}
    summary = openadr.ven_summary(event)
    assert summary["counts"]["cancelled"] == 2 and summary["total"] == 2


def vtn_is_listening(port):
    async def listening():
        """the VTN to listen"""
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    return listening


@pytest.mark.django_db(transaction=True)
def test_an_unregistered_ven_is_refused(grid):
    port = free_port()

    async def scenario():
        vtn = VoltDeskVTN(vtn_id="VOLTDESK-TEST-VTN", port=port, poll_seconds=0.2)
        stop = asyncio.Event()
        serving = asyncio.create_task(vtn.run(stop))
        client = OpenADRClient(
            ven_name="stranger", vtn_url=f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b"
        )
        try:
            await until(vtn_is_listening(port))
            await client.run()  # gives up: no registration id
            return client.registration_id, client.ven_id
        finally:
            if client.client_session is not None and not client.client_session.closed:
                await client.client_session.close()
            stop.set()
            await asyncio.wait_for(serving, TIMEOUT)

    assert run_apart(scenario, 30) == (None, None)
