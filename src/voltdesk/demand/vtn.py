"""The OpenADR 2.0b VTN: openleadr's server wired to the database through ``openadr``.

openleadr's server is aiohttp; it runs in its own process (``voltdesk
openadr_vtn``) and every database call goes through ``asgiref``'s
``sync_to_async`` into the plain functions of ``voltdesk.demand.openadr``:

* **Registration.** ``on_create_party_registration`` accepts a VEN whose name
  (and, under TLS, certificate fingerprint) an active registration carries and
  hands it its ``ven_id`` and ``registration_id``; ``ven_lookup`` lets openleadr
  ask an unknown VEN to re-register and check fingerprints on every message.
* **Events.** Every ``poll_seconds`` the VTN reads the deliveries that are new
  or changed (``openadr.deliveries_to_publish``) and puts each in its VEN's
  queue as one OpenADR event with one SIMPLE signal; the VEN gets it at its next
  poll (``requested_oadr_poll_freq``). A cancelled delivery replaces the queued
  event with the same event id, a higher modification number and the status
  ``cancelled``. After a restart the VTN simply reads every live delivery
  again: the VEN recognises the event ids it already answered.
* **Answers.** The VEN's oadrCreatedEvent (opt-in / opt-out) is recorded by
  ``on_created_event``; the distribution of an event marks the delivery sent.
* **Reports.** ``on_register_report`` asks for every TELEMETRY_USAGE value the
  VEN offers, at ``report_seconds`` (or the VEN's fastest rate if slower), and
  stores what arrives with ``openadr.record_report``.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections
from openleadr import OpenADRServer, enums, objects, utils

from . import openadr

logger = logging.getLogger("voltdesk.demand.vtn")


def _run_db(func, *args, **kwargs):
    # A long-lived process: drop a connection the database closed or that outlived
    # CONN_MAX_AGE, as Django does around each request.
    close_old_connections()
    return func(*args, **kwargs)


async def db(func, *args, **kwargs):
    """Call a synchronous service from the VTN's event loop (one database thread)."""
    return await sync_to_async(_run_db, thread_sensitive=True)(func, *args, **kwargs)


def build_event(row: dict, *, market_context: str) -> objects.Event:
    """The OpenADR event of one delivery row (see ``openadr.deliveries_to_publish``)."""
    intervals = [
        objects.Interval(dtstart=start, duration=end - start, signal_payload=float(level), uid=i)
        for i, (start, end, level) in enumerate(openadr.parse_intervals(row["intervals"]))
    ]
    cancelled = row["status"] == openadr.DeliveryStatus.CANCELLED
    starts_at, ends_at = row["event__starts_at"], row["event__ends_at"]
    descriptor = objects.EventDescriptor(
        event_id=row["oadr_event_id"],
        modification_number=row["modification_number"],
        market_context=market_context,
        event_status=enums.EVENT_STATUS.CANCELLED if cancelled else enums.EVENT_STATUS.FAR,
        created_date_time=row["queued_at"],
        vtn_comment=(row["event__title"] or "")[:200],
    )
    targets = [objects.Target(ven_id=row["ven__ven_id"])]
    targets += [objects.Target(resource_id=ref) for ref in row["site_refs"]]
    event = objects.Event(
        event_descriptor=descriptor,
        active_period=objects.ActivePeriod(dtstart=starts_at, duration=ends_at - starts_at),
        event_signals=[
            objects.EventSignal(
                intervals=intervals,
                signal_name=enums.SIGNAL_NAME.SIMPLE,
                signal_type=enums.SIGNAL_TYPE.LEVEL,
                signal_id=f"{row['oadr_event_id']}-simple",
                current_value=0.0,  # what OpenADR asks of a signal not yet active
            )
        ],
        targets=targets,
        response_required="always",
    )
    if cancelled:
        # Event() sets the status from the clock; a cancellation overrides it.
        event.event_descriptor.event_status = enums.EVENT_STATUS.CANCELLED
    return event


class VoltDeskVTN:
    """One VTN: the openleadr server plus the loop that feeds it from the database."""

    def __init__(
        self,
        *,
        vtn_id: str,
        host: str = "127.0.0.1",
        port: int = 8080,
        poll_seconds: float = 5.0,
        ven_poll_seconds: float = 10.0,
        report_seconds: float = 60.0,
        market_context: str = openadr.MARKET_CONTEXT,
        cert: str | None = None,
        key: str | None = None,
        passphrase: str | None = None,
        http_cert: str | None = None,
        http_key: str | None = None,
        http_ca_file: str | None = None,
    ):
        self.poll_seconds = poll_seconds
        self.report_interval = timedelta(seconds=report_seconds)
        self.market_context = market_context
        self.tls = bool(http_cert and http_key and http_ca_file)
        self.server = OpenADRServer(
            vtn_id=vtn_id,
            http_host=host,
            http_port=port,
            requested_poll_freq=timedelta(seconds=ven_poll_seconds),
            ven_lookup=self.ven_lookup,
            cert=cert,
            key=key,
            passphrase=passphrase,
            http_cert=http_cert,
            http_key=http_key,
            http_ca_file=http_ca_file,
            show_fingerprint=bool(cert and key),
        )
        self.server.add_handler("on_create_party_registration", self.on_create_party_registration)
        self.server.add_handler("on_register_report", self.on_register_report)
        # delivery pk -> (modification number held, ven_id, OpenADR event id, event end)
        self.published: dict[int, tuple[int, str, str, datetime]] = {}

    # --- openleadr handlers ---------------------------------------------------------------

    async def ven_lookup(self, ven_id):
        return await db(openadr.ven_lookup, ven_id)

    async def on_create_party_registration(self, registration_info):
        result = await db(
            openadr.accept_registration,
            ven_name=registration_info.get("ven_name") or "",
            ven_id=registration_info.get("ven_id"),
            fingerprint=registration_info.get("fingerprint") or "",
        )
        if result is None:
            logger.warning(
                "Refused VEN %r: no active registration", registration_info.get("ven_name")
            )
            return False
        return result

    async def on_register_report(
        self, ven_id, resource_id, measurement, unit, scale, min_sampling_interval,
        max_sampling_interval,
    ):  # fmt: skip
        interval = self.report_interval
        if min_sampling_interval and min_sampling_interval > interval:
            interval = min_sampling_interval
        callback = partial(
            self.on_report_values,
            ven_id=ven_id,
            resource_id=resource_id or "",
            measurement=measurement or "",
            unit=unit,
            scale=scale,
        )
        return callback, interval

    async def on_report_values(self, values, *, ven_id, resource_id, measurement, unit, scale):
        try:
            await db(
                openadr.record_report,
                ven_id=ven_id,
                values=values,
                resource_id=resource_id,
                measurement=measurement,
                unit=unit,
                scale=scale,
            )
        except openadr.OpenADRError as exc:
            logger.warning("Report of VEN %s not stored: %s", ven_id, exc)

    async def on_created_event(self, ven_id, event_id, opt_type):
        try:
            await db(openadr.record_opt, ven_id=ven_id, oadr_event_id=event_id, opt_type=opt_type)
        except openadr.OpenADRError as exc:
            logger.warning("Answer of VEN %s not recorded: %s", ven_id, exc)
        # openleadr forgets the callback after the first answer; keep listening, so a
        # changed answer and the confirmation of a cancellation are recorded too.
        event = utils.find_by(
            self.server.events.get(ven_id, []), "event_descriptor.event_id", event_id
        )
        if event is not None:
            self.server.event_callbacks[event_id] = (event, self.on_created_event)

    async def on_delivered(self, oadr_event_id):
        await db(openadr.record_sent, oadr_event_id)

    # --- feeding the queues from the database ---------------------------------------------

    def publish(self, row: dict) -> None:
        ven_id, event_id = row["ven__ven_id"], row["oadr_event_id"]
        event = build_event(row, market_context=self.market_context)
        queue = self.server.events.setdefault(ven_id, [])
        utils.pop_by(queue, "event_descriptor.event_id", event_id)
        self.server.add_raw_event(
            ven_id=ven_id,
            event=event,
            callback=self.on_created_event,
            delivery_callback=partial(self.on_delivered, event_id),
        )
        self.published[row["pk"]] = (
            row["modification_number"],
            ven_id,
            event_id,
            row["event__ends_at"],
        )

    def prune(self, now: datetime) -> None:
        """Forget events that are over: the VEN drops them by itself."""
        for pk, (_number, ven_id, event_id, ends_at) in list(self.published.items()):
            if ends_at <= now:
                del self.published[pk]
                utils.pop_by(
                    self.server.events.get(ven_id, []), "event_descriptor.event_id", event_id
                )
                self.server.event_callbacks.pop(event_id, None)
                self.server.event_delivery_callbacks.pop(event_id, None)

    async def sync(self) -> int:
        """Publish new and changed deliveries; returns how many."""
        held = {pk: number for pk, (number, *_rest) in self.published.items()}
        rows = await db(openadr.deliveries_to_publish, held)
        if rows:
            for row in rows:
                self.publish(row)
            logger.info("Published %d OpenADR deliveries", len(rows))
        self.prune(datetime.now(UTC))
        return len(rows)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set (forever without one)."""
        stop = stop or asyncio.Event()
        await self.server.run()
        try:
            while not stop.is_set():
                try:
                    await self.sync()
                except Exception:  # keep serving; the next round retries
                    logger.exception("Reading the OpenADR deliveries failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
        finally:
            await self.server.stop()
            await sync_to_async(connections.close_all, thread_sensitive=True)()
