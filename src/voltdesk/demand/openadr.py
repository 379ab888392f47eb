"""OpenADR 2.0b: excess-demand events for customers' energy-management systems (VENs).

The rules, as plain functions the VTN process (``vtn.py``), the commands and
the event pages call:

* A VEN is **registered by the utility** (``register_ven``) for some of one
  customer's own sites; the VTN accepts a VEN only when an active registration
  carries the name it presents (``accept_registration``).
* An event **reaches** a VEN when one of the VEN's sites hangs on a feeder the
  event affects (``vens_for_event``). ``queue_for_event`` writes one
  ``VenDelivery`` per such VEN with the event's SIMPLE signal for that VEN's
  own sites, and the VTN sends it at the VEN's next poll; ``cancel_for_event``
  marks them cancelled with a new modification number, so the VEN receives the
  same OpenADR event as cancelled.
* The **SIMPLE signal**: an advisory event is level 1 (moderate) for its whole
  window; a load-shedding event is level 2 (high: the grid is short) with the
  VEN's own shedding windows at level 3 (special: its feeder is switched off).
  A VEN whose sites are all on critical-load feeders, never switched off, gets
  level 2 throughout.
* The VEN's answer (opt-in / opt-out) and its telemetry reports are recorded
  by ``record_opt`` and ``record_report``; ``ven_summary`` is the event page's view.

Everything a VEN is sent is also a warning of the event (channel ``openadr``),
so the after-event report counts it with the SMS, e-mails and calls.
"""

import secrets
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from voltdesk.core.services import log_action
from voltdesk.customers.models import Customer, Site

from .choices import EventStatus, Severity, WarningChannel
from .models import (
    AffectedFeeder,
    DeliveryStatus,
    DemandEvent,
    EventWarning,
    OptType,
    SheddingWindow,
    VenDelivery,
    VenRegistration,
    VenReport,
)

# OpenADR SIMPLE signal levels (0 normal, 1 moderate, 2 high, 3 special).
LEVEL_ADVISORY = 1
LEVEL_SHORTAGE = 2
LEVEL_SHED = 3

MARKET_CONTEXT = "oadr://voltdesk/excess-demand"

# A report is tied to the VEN's next event up to this long before it starts.
BASELINE_LEAD = timedelta(days=2)


class OpenADRError(ValueError):
    """A registration or an answer that cannot be accepted; the message names the field."""


# --- registration -------------------------------------------------------------------------


def register_ven(*, customer_ref: str, site_refs, name: str, fingerprint: str = "", actor=None):
    """Provision a VEN for ``customer_ref``'s own sites; returns the registration.

    The ``ven_id`` and ``registration_id`` are drawn here (the VTN hands them to
    the VEN when it first connects); ``name`` is what the VEN presents.
    """
    name = (name or "").strip()
    site_refs = [ref.strip() for ref in site_refs if ref and ref.strip()]
    errors = []
    if not name:
        errors.append(_("name: give the VEN the name its energy-management system presents."))
    elif len(name) > 120:
        errors.append(_("name: at most 120 characters."))
    elif VenRegistration.objects.filter(ven_name=name).exists():
        errors.append(_("name: a VEN named %(name)s is already registered.") % {"name": name})
    customer = Customer.objects.filter(ref=(customer_ref or "").strip()).first()
    if customer is None:
        errors.append(
            _("customer: no customer has the number %(ref)s.") % {"ref": customer_ref or "—"}
        )
    if not site_refs:
        errors.append(_("site: name at least one of the customer's sites."))
    sites = []
    if customer is not None and site_refs:
        sites = list(Site.objects.filter(customer=customer, ref__in=site_refs))
        unknown = sorted(set(site_refs) - {s.ref for s in sites})
        if unknown:
            errors.append(
                _("site: not a site of customer %(customer)s: %(refs)s.")
                % {"refs": ", ".join(unknown), "customer": customer.ref}
            )
    fingerprint = (fingerprint or "").strip().upper()
    if len(fingerprint) > 64:
        errors.append(_("fingerprint: at most 64 characters (AA:BB:… as openleadr prints it)."))
    if errors:
        raise OpenADRError(" ".join(errors))
    with transaction.atomic():
        ven = VenRegistration.objects.create(
            ven_id="ven-" + secrets.token_hex(8),
            ven_name=name,
            registration_id="reg-" + secrets.token_hex(8),
            customer=customer,
            fingerprint=fingerprint,
        )
        ven.sites.set(sites)
        log_action(actor, "demand.ven_registered", ven, {"sites": sorted(s.ref for s in sites)})
    return ven


def accept_registration(*, ven_name: str, ven_id: str | None = None, fingerprint: str = ""):
    """(ven_id, registration_id) for a VEN that presents a registered name, else None.

    A VEN that already knows its ``ven_id`` must present the matching one; with
    TLS the client certificate's fingerprint must be the registered one.
    """
    ven = VenRegistration.objects.filter(ven_name=ven_name or "", active=True).first()
    if ven is None and ven_id:
        ven = VenRegistration.objects.filter(ven_id=ven_id, active=True).first()
    if ven is None or (ven_id and ven_id != ven.ven_id):
        return None
    # Under TLS the connection's certificate must be the one registered (openleadr
    # checks it again on every later message); without TLS there is none to check.
    if fingerprint and fingerprint.upper() != ven.fingerprint:
        return None
    now = timezone.now()
    VenRegistration.objects.filter(pk=ven.pk).update(registered_at=now, last_seen_at=now)
    return ven.ven_id, ven.registration_id


def ven_lookup(ven_id: str) -> dict | None:
    """What openleadr asks for every message: the VEN's ids and fingerprint, None if unknown."""
    row = (
        VenRegistration.objects.filter(ven_id=ven_id, active=True)
        .values("ven_id", "ven_name", "fingerprint", "registration_id")
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    # Cheap "last seen": at most one write a minute per VEN, however often it polls.
    VenRegistration.objects.filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - timedelta(minutes=1)),
        ven_id=ven_id,
    ).update(last_seen_at=now)
    return {**row, "fingerprint": row["fingerprint"] or None}


# --- which VENs, which signal --------------------------------------------------------------


def vens_for_event(event: DemandEvent):
    """Active VENs with at least one of their sites on a feeder the event affects."""
    feeders = AffectedFeeder.objects.filter(event=event).values("feeder_id")
    return VenRegistration.objects.filter(active=True, sites__feeder__in=feeders).distinct()


def signal_level(severity: str, *, switched_off: bool) -> int:
    """The SIMPLE level: advisory 1; shedding 2 (grid short), 3 while the VEN's feeder is off."""
    if severity == Severity.ADVISORY:
        return LEVEL_ADVISORY
    return LEVEL_SHED if switched_off else LEVEL_SHORTAGE


def event_intervals(event: DemandEvent, windows) -> list[dict]:
    """The event's window cut into consecutive SIMPLE intervals for one VEN.

    ``windows`` are the VEN's own shedding windows ``(start, end)``; overlapping
    or touching ones are merged, and the time between them is level 2. An
    advisory event is one level-1 interval.
    """
    start, end = event.starts_at, event.ends_at
    if event.severity == Severity.ADVISORY:
        return [_interval(start, end, LEVEL_ADVISORY)]
    merged: list[list[datetime]] = []
    for w_start, w_end in sorted((max(s, start), min(e, end)) for s, e in windows):
        if w_start >= w_end:
            continue
        if merged and w_start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], w_end)
        else:
            merged.append([w_start, w_end])
    intervals, cursor = [], start
    for w_start, w_end in merged:
        if cursor < w_start:
            intervals.append(_interval(cursor, w_start, LEVEL_SHORTAGE))
        intervals.append(_interval(w_start, w_end, LEVEL_SHED))
        cursor = w_end
    if cursor < end:
        intervals.append(_interval(cursor, end, LEVEL_SHORTAGE))
    return intervals


def _interval(start: datetime, end: datetime, level: int) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat(), "level": level}


def parse_intervals(intervals: list[dict]) -> list[tuple[datetime, datetime, int]]:
    """A delivery's stored intervals back as (start, end, level)."""
    return [
        (parse_datetime(i["start"]), parse_datetime(i["end"]), int(i["level"])) for i in intervals
    ]


# --- the hook into declare / cancel --------------------------------------------------------


def queue_for_event(event: DemandEvent) -> int:
    """One pending delivery per VEN the event reaches; idempotent. Returns how many are new.

    Called after the declaration commits (``demand.services.declare_event``).
    Two queries whatever the number of VENs: the VENs' affected sites, and the
    shedding windows of their feeders.
    """
    event = DemandEvent.objects.get(pk=event.pk)
    if event.status != EventStatus.DECLARED or event.ends_at <= timezone.now():
        return 0
    reached = (
        vens_for_event(event)
        .exclude(deliveries__event=event)
        .values_list("pk", "sites__ref", "sites__feeder_id")
    )
    ven_feeders: dict[int, set[int]] = {}
    ven_sites: dict[int, set[str]] = {}
    for ven_pk, site_ref, feeder_id in reached:
        ven_feeders.setdefault(ven_pk, set()).add(feeder_id)
        ven_sites.setdefault(ven_pk, set()).add(site_ref)
    if not ven_feeders:
        return 0
    windows_by_feeder: dict[int, list] = {}
    all_feeders = set().union(*ven_feeders.values())
    for feeder_id, s, e in SheddingWindow.objects.filter(
        event=event, feeder_id__in=all_feeders
    ).values_list("feeder_id", "starts_at", "ends_at"):
        windows_by_feeder.setdefault(feeder_id, []).append((s, e))
    deliveries = []
    for ven_pk, feeder_ids in ven_feeders.items():
        windows = [w for f in feeder_ids for w in windows_by_feeder.get(f, [])]
        intervals = event_intervals(event, windows)
        deliveries.append(
            VenDelivery(
                event=event,
                ven_id=ven_pk,
                oadr_event_id=f"vd-{event.pk}-{secrets.token_hex(6)}",
                intervals=intervals,
                site_refs=sorted(ven_sites[ven_pk]),
                signal_level=max(i["level"] for i in intervals),
            )
        )
    created = VenDelivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
    return len(created)


def cancel_for_event(event: DemandEvent, now: datetime | None = None) -> int:
    """Mark the event's deliveries cancelled; the VTN sends the cancellation. Returns how many."""
    now = now or timezone.now()
    return (
        VenDelivery.objects.filter(event_id=event.pk)
        .exclude(status=DeliveryStatus.CANCELLED)
        .update(
            status=DeliveryStatus.CANCELLED,
            cancelled_at=now,
            modification_number=F("modification_number") + 1,
        )
    )


# --- what the VTN publishes and records ----------------------------------------------------


def deliveries_to_publish(published: dict[int, int], now: datetime | None = None) -> list[dict]:
    """Deliveries the VTN must put in (or refresh in) its VEN queues.

    ``published`` maps the delivery ids the VTN holds to the modification number
    it holds them at. Returned: every delivery of an event not yet over that is
    new to the VTN or has changed since; a cancelled delivery the VEN never
    received is left out (there is nothing to take back).
    """
    now = now or timezone.now()
    rows = VenDelivery.objects.filter(event__ends_at__gt=now, ven__active=True).values_list(
        "pk", "modification_number", "status", "sent_at"
    )
    wanted = [
        pk
        for pk, number, status, sent_at in rows
        if published.get(pk) != number
        and not (status == DeliveryStatus.CANCELLED and sent_at is None and pk not in published)
    ]
    if not wanted:
        return []
    return list(
        VenDelivery.objects.filter(pk__in=wanted)
        .order_by("pk")
        .values(
            "pk",
            "oadr_event_id",
            "status",
            "modification_number",
            "intervals",
            "site_refs",
            "queued_at",
            "ven__ven_id",
            "event__title",
            "event__starts_at",
            "event__ends_at",
        )
    )


def record_sent(oadr_event_id: str, now: datetime | None = None) -> None:
    """The VEN polled and received the event (or its cancellation); also a warning by OpenADR."""
    now = now or timezone.now()
    delivery = (
        VenDelivery.objects.filter(oadr_event_id=oadr_event_id)
        .values("pk", "status", "sent_at", "cancel_sent_at", "event_id", "ven__customer_id")
        .first()
    )
    if delivery is None:
        return
    if delivery["status"] == DeliveryStatus.CANCELLED:
        if delivery["cancel_sent_at"] is None:
            VenDelivery.objects.filter(pk=delivery["pk"], cancel_sent_at__isnull=True).update(
                cancel_sent_at=now
            )
        return
    VenDelivery.objects.filter(pk=delivery["pk"], sent_at__isnull=True).update(sent_at=now)
    VenDelivery.objects.filter(pk=delivery["pk"], status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT
    )
    EventWarning.objects.bulk_create(
        [
            EventWarning(
                event_id=delivery["event_id"],
                customer_id=delivery["ven__customer_id"],
                channel=WarningChannel.OPENADR,
            )
        ],
        ignore_conflicts=True,
    )


def record_opt(
    *, ven_id: str, oadr_event_id: str, opt_type: str, now: datetime | None = None
) -> VenDelivery:
    """The VEN's answer to an event it was sent: opted in or out (its latest answer counts).

    The answer to a cancellation only confirms it: the delivery stays cancelled
    and keeps the answer the VEN gave to the event itself.
    """
    if opt_type not in OptType.values:
        raise OpenADRError(
            _("opt_type: %(value)s is not optIn or optOut.") % {"value": str(opt_type)[:20]}
        )
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            VenDelivery.objects.select_for_update()
            .filter(oadr_event_id=oadr_event_id, ven__ven_id=ven_id)
            .first()
        )
        if delivery is None:
            raise OpenADRError(
                _("event_id: %(event)s was not sent to VEN %(ven)s.")
                % {"event": oadr_event_id, "ven": ven_id}
            )
        if delivery.status == DeliveryStatus.CANCELLED:
            if delivery.cancel_sent_at is None:
                delivery.cancel_sent_at = now
                delivery.save(update_fields=["cancel_sent_at"])
            return delivery
        delivery.opt_type = opt_type
        delivery.opted_at = now
        delivery.sent_at = delivery.sent_at or now
        delivery.status = (
            DeliveryStatus.OPTED_IN if opt_type == OptType.OPT_IN else DeliveryStatus.OPTED_OUT
        )
        delivery.save(update_fields=["opt_type", "opted_at", "sent_at", "status"])
    return delivery


# openleadr's measurement scales, as multipliers of the unit.
_SCALES = {"none": 1.0, "": 1.0, "p": 1e-12, "n": 1e-9, "micro": 1e-6, "m": 1e-3, "c": 1e-2,
           "d": 1e-1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}  # fmt: skip


def to_kw(value: float, unit: str | None, scale: str | None) -> float | None:
    """A power reading in kW (W with its scale), None for other quantities."""
    if (unit or "").upper() != "W":
        return None
    return float(value) * _SCALES.get(scale or "none", 1.0) / 1000.0


def record_report(
    *,
    ven_id: str,
    values,
    resource_id: str = "",
    measurement: str = "",
    unit: str | None = None,
    scale: str | None = None,
) -> int:
    """Store a VEN's report values ``[(measured_at, value)]``; returns how many were stored.

    Each value is tied to the VEN's event whose window holds it or, failing
    that, to the VEN's next event starting within two days (its baseline).
    """
    ven = VenRegistration.objects.filter(ven_id=ven_id).only("pk").first()
    if ven is None:
        raise OpenADRError(_("ven_id: %(ven)s is not registered.") % {"ven": ven_id})
    values = [(at, float(v)) for at, v in values if at is not None and v is not None]
    if not values:
        return 0
    first = min(at for at, _v in values)
    last = max(at for at, _v in values)
    events = list(
        VenDelivery.objects.filter(
            ven=ven, event__ends_at__gt=first, event__starts_at__lt=last + BASELINE_LEAD
        )
        .exclude(status=DeliveryStatus.CANCELLED)
        .order_by("event__starts_at")
        .values_list("event_id", "event__starts_at", "event__ends_at")
    )

    def event_for(at: datetime):
        for event_id, starts_at, ends_at in events:
            if starts_at <= at < ends_at:
                return event_id
        for event_id, starts_at, _ends_at in events:
            if at < starts_at <= at + BASELINE_LEAD:
                return event_id
        return None

    rows = [
        VenReport(
            ven=ven,
            event_id=event_for(at),
            resource_id=(resource_id or "")[:120],
            measurement=(measurement or "")[:60],
            measured_at=at,
            value=value,
            kw=to_kw(value, unit, scale),
        )
        for at, value in values
    ]
    VenReport.objects.bulk_create(rows)
    return len(rows)


# --- the event page --------------------------------------------------------------------------


def ven_summary(event: DemandEvent) -> dict:
    """The event's OpenADR deliveries: counts by status and one row per VEN.

    ``{"total": n, "counts": {status: n, ...}, "badges": [{status, label, n}
    for the statuses present], "rows": [{ven_name, ven_id,
    customer, status, status_label, signal_level, opt_type, sent_at, opted_at,
    cancelled_at, last_seen_at, last_kw}, ...]}``.
    """
    rows = list(
        VenDelivery.objects.filter(event=event)
        .order_by("ven__customer__name", "ven__ven_name")
        .values(
            "ven_id",
            "ven__ven_name",
            "ven__ven_id",
            "ven__customer__ref",
            "ven__customer__name",
            "ven__last_seen_at",
            "status",
            "signal_level",
            "opt_type",
            "sent_at",
            "opted_at",
            "cancelled_at",
        )
    )
    last_kw = {}
    for ven_pk, kw in (
        VenReport.objects.filter(event=event, kw__isnull=False)
        .order_by("ven_id", "measured_at")
        .values_list("ven_id", "kw")
    ):
        last_kw[ven_pk] = kw
    counts = Counter(row["status"] for row in rows)
    labels = dict(DeliveryStatus.choices)
    return {
        "total": len(rows),
        "counts": {status: counts.get(status, 0) for status in DeliveryStatus.values},
        "badges": [
            {"status": status, "label": labels[status], "n": counts[status]}
            for status in DeliveryStatus.values
            if counts[status]
        ],
        "rows": [
            {
                "ven_name": row["ven__ven_name"],
                "ven_id": row["ven__ven_id"],
                "customer": f"{row['ven__customer__ref']} {row['ven__customer__name']}",
                "status": row["status"],
                "status_label": labels[row["status"]],
                "signal_level": row["signal_level"],
                "opt_type": row["opt_type"],
                "sent_at": row["sent_at"],
                "opted_at": row["opted_at"],
                "cancelled_at": row["cancelled_at"],
                "last_seen_at": row["ven__last_seen_at"],
                "last_kw": last_kw.get(row["ven_id"]),
            }
            for row in rows
        ],
    }


# --- demo --------------------------------------------------------------------------------------


DEMO_VEN_NAME = "demo-ems"


def seed_demo_vens(utility) -> list[VenRegistration]:
    """Register one VEN (``demo-ems``) for a demo business customer's sites on the network.

    The customer is the one the demo's ``factory`` login acts for, else the
    first business customer with a site on a feeder. Idempotent: a second call
    returns the existing registration. Run the VTN (``voltdesk openadr_vtn``) and
    point an openleadr VEN named ``demo-ems`` at it (docs/openadr.md).
    """
    existing = VenRegistration.objects.filter(ven_name=DEMO_VEN_NAME).first()
    if existing is not None:
        return [existing]
    sited = Site.objects.filter(feeder__isnull=False)
    customer = Customer.objects.filter(users__user__username="factory", sites__in=sited).first()
    if customer is None:
        customer = Customer.objects.filter(kind="business", sites__in=sited).order_by("ref").first()
    if customer is None:
        return []
    refs = list(sited.filter(customer=customer).order_by("ref").values_list("ref", flat=True))
    return [register_ven(customer_ref=customer.ref, site_refs=refs, name=DEMO_VEN_NAME)]
