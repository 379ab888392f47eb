"""Excess-demand events: declare, schedule the shedding, warn, call the club, acknowledge.

* ``declare_event`` checks the event (a time window in the future, a scope on
  the network, the profile's notice for planned outages), expands the scope to
  feeders, marks the feeders that serve a critical-load site, builds the
  rotating shedding schedule, puts every club member with an affected site on
  the call list of its account manager, and, after commit, starts the warnings
  fan-out (``fanout``) for everyone else. All of it in one transaction.
* ``record_call`` is the account manager's acknowledgement.
* ``banner_events`` is what the portal shows a customer.

The notice rules come from the utility (``planned_outage_notice_days``,
``temporary_outage_notice_hours``, ``demand_call_lead_hours``), never from here.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import get_utility, log_action
from voltdesk.customers.models import Site
from voltdesk.keyaccounts.choices import MembershipStatus
from voltdesk.keyaccounts.models import Membership, PortfolioAssignment

from . import openadr
from .choices import CallOutcome, EventKind, EventStatus, Severity, WarningChannel
from .models import AffectedFeeder, CallListEntry, DemandEvent, EventWarning, SheddingWindow

MAX_WINDOW = timedelta(days=7)


class DemandError(ValueError):
    """An event or a call record that cannot be accepted; the message names the field."""


@dataclass(frozen=True)
class EventRequest:
    """What a demand manager declares."""

    title: str
    starts_at: datetime
    ends_at: datetime
    kind: str = EventKind.EXCESS_DEMAND
    severity: str = Severity.SHEDDING
    regions: tuple = ()
    areas: tuple = ()
    feeders: tuple = ()
    rotation_minutes: int = 120
    reason: str = ""
    proposed_from: str = ""


def _check(request: EventRequest, now: datetime) -> list[str]:
    errors = []
    if not request.title.strip():
        errors.append(_("title: give the event a title customers will understand."))
    if request.kind not in EventKind.values:
        errors.append(_("kind: %(value)s is not an event kind.") % {"value": request.kind})
    if request.severity not in Severity.values:
        errors.append(_("severity: %(value)s is not a severity.") % {"value": request.severity})
    if request.ends_at <= request.starts_at:
        errors.append(_("ends_at: the event must end after it starts."))
    elif request.ends_at - request.starts_at > MAX_WINDOW:
        errors.append(_("ends_at: an event lasts at most 7 days; declare another one after it."))
    if request.starts_at <= now:
        errors.append(_("starts_at: warnings go out ahead, so the event must start in the future."))
    if not (request.regions or request.areas or request.feeders):
        errors.append(_("scope: name at least one region, area or feeder."))
    if not 15 <= request.rotation_minutes <= 24 * 60:
        errors.append(_("rotation_minutes: a shedding block lasts 15 minutes to 24 hours."))
    utility = get_utility()
    if request.kind == EventKind.PLANNED_OUTAGE and request.starts_at > now:
        notice = timedelta(days=utility.planned_outage_notice_days)
        if request.starts_at - now < notice:
            errors.append(
                _(
                    "starts_at: a planned outage is announced %(days)s days ahead; "
                    "the earliest start now is %(earliest)s."
                )
                % {
                    "days": utility.planned_outage_notice_days,
                    "earliest": timezone.localtime(now + notice).strftime("%Y-%m-%d %H:%M"),
                }
            )
    if request.kind == EventKind.TEMPORARY_OUTAGE and request.starts_at > now:
        notice = timedelta(hours=utility.temporary_outage_notice_hours)
        if request.starts_at - now < notice:
            errors.append(
                _(
                    "starts_at: important customers are told of a temporary outage "
                    "%(hours)s hours ahead."
                )
                % {"hours": utility.temporary_outage_notice_hours}
            )
    return errors


def _scope_feeders(event: DemandEvent):
    """The event's feeders: named feeders, feeders of named areas, of named regions."""
    return Feeder.objects.filter(
        Q(pk__in=event.feeders.values("pk"))
        | Q(area__in=event.areas.values("pk"))
        | Q(area__region__in=event.regions.values("pk"))
    )


def _expand_scope(event: DemandEvent) -> None:
    critical = Site.objects.filter(feeder=OuterRef("pk"), critical_load=True)
    rows = _scope_feeders(event).annotate(critical=Exists(critical)).values_list("pk", "critical")
    AffectedFeeder.objects.bulk_create(
        [AffectedFeeder(event=event, feeder_id=pk, critical_load=flag) for pk, flag in rows],
        batch_size=2000,
    )


def shedding_blocks(starts_at: datetime, ends_at: datetime, minutes: int) -> list[tuple]:
    """The event's window cut into blocks of ``minutes`` (the last one may be shorter)."""
    step = timedelta(minutes=minutes)
    count = math.ceil((ends_at - starts_at) / step)
    return [(starts_at + i * step, min(ends_at, starts_at + (i + 1) * step)) for i in range(count)]


def _schedule(event: DemandEvent) -> int:
    """The rotation: sheddable feeders in network order, group i off in block i mod n.

    So at any moment about 1/n of the feeders is off and no feeder is off twice
    while another has not had its turn. Feeders that serve a critical load are
    left out entirely.
    """
    if event.severity != Severity.SHEDDING:
        return 0
    feeders = list(
        AffectedFeeder.objects.filter(event=event, critical_load=False)
        .order_by("feeder__area__region__name", "feeder__area__name", "feeder__name")
        .values_list("feeder_id", flat=True)
    )
    blocks = shedding_blocks(event.starts_at, event.ends_at, event.rotation_minutes)
    windows = [
        SheddingWindow(
            event=event,
            feeder_id=feeder_id,
            starts_at=blocks[i % len(blocks)][0],
            ends_at=blocks[i % len(blocks)][1],
        )
        for i, feeder_id in enumerate(feeders)
    ]
    SheddingWindow.objects.bulk_create(windows, batch_size=2000)
    return len(windows)


def affected_sites(event: DemandEvent):
    return Site.objects.filter(
        feeder__in=AffectedFeeder.objects.filter(event=event).values("feeder_id")
    )


def affected_customer_ids(event: DemandEvent):
    return affected_sites(event).values("customer_id").distinct()


def call_due_at(event: DemandEvent, now: datetime) -> datetime:
    """Members are called ``demand_call_lead_hours`` before the start, or halfway there."""
    lead = timedelta(hours=get_utility().demand_call_lead_hours)
    due = event.starts_at - lead
    if due <= now:
        due = now + (event.starts_at - now) / 2
    return due


def _call_list(event: DemandEvent, now: datetime) -> int:
    members = Membership.objects.filter(
        status=MembershipStatus.MEMBER, customer__in=affected_customer_ids(event)
    ).values_list("customer_id", flat=True)
    managers = dict(
        PortfolioAssignment.objects.filter(customer__in=members, end__isnull=True).values_list(
            "customer_id", "manager_id"
        )
    )
    due = call_due_at(event, now)
    entries = [
        CallListEntry(event=event, customer_id=pk, manager_id=managers.get(pk), due_at=due)
        for pk in members
    ]
    CallListEntry.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
    return len(entries)


def _pks(values, model, field: str) -> list[int]:
    pks = []
    for value in values:
        pk = getattr(value, "pk", value)
        try:
            pks.append(int(pk))
        except (TypeError, ValueError) as exc:
            raise DemandError(
                _("%(field)s: %(value)s is not a known one.") % {"field": field, "value": value}
            ) from exc
    found = set(model.objects.filter(pk__in=pks).values_list("pk", flat=True))
    unknown = sorted(set(pks) - found)
    if unknown:
        raise DemandError(
            _("%(field)s: %(values)s are not known.")
            % {"field": field, "values": ", ".join(map(str, unknown))}
        )
    return pks


def declare_event(request: EventRequest, *, actor=None, now: datetime | None = None):
    """Declare an event: scope, schedule, call lists in one transaction, then warnings."""
    now = now or timezone.now()
    errors = _check(request, now)
    if errors:
        raise DemandError(" ".join(errors))
    regions = _pks(request.regions, Region, "regions")
    areas = _pks(request.areas, Area, "areas")
    feeders = _pks(request.feeders, Feeder, "feeders")
    with transaction.atomic():
        event = DemandEvent.objects.create(
            kind=request.kind,
            severity=request.severity,
            status=EventStatus.DECLARED,
            title=request.title.strip(),
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            rotation_minutes=request.rotation_minutes,
            reason=request.reason,
            proposed_from=request.proposed_from,
            declared_by=actor if getattr(actor, "pk", None) else None,
            declared_at=now,
        )
        event.regions.set(regions)
        event.areas.set(areas)
        event.feeders.set(feeders)
        _expand_scope(event)
        if not event.affected.exists():
            raise DemandError(_("scope: the regions and areas named have no feeders."))
        windows = _schedule(event)
        calls = _call_list(event, now)
        log_action(
            actor,
            "demand.event_declared",
            event,
            {"feeders": event.affected.count(), "windows": windows, "calls": calls},
        )
        transaction.on_commit(lambda: _start_warnings(event.pk))
        # Energy-management systems (OpenADR VENs) get it through the VTN's outbox.
        transaction.on_commit(lambda: openadr.queue_for_event(event))
    return event


def _start_warnings(event_id: int) -> None:
    from .tasks import warn_event

    warn_event.delay(event_id)


def cancel_event(event: DemandEvent, *, actor=None, note: str = "") -> DemandEvent:
    with transaction.atomic():
        event = DemandEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == EventStatus.CANCELLED:
            raise DemandError(_("status: the event is already cancelled."))
        if event.ends_at <= timezone.now():
            raise DemandError(_("status: the event is over; it can no longer be cancelled."))
        event.status = EventStatus.CANCELLED
        event.cancelled_at = timezone.now()
        event.save(update_fields=["status", "cancelled_at"])
        openadr.cancel_for_event(event)
        log_action(actor, "demand.event_cancelled", event, {"note": note})
    return event


def record_call(
    entry: CallListEntry, *, outcome: str, actor=None, note: str = "", now=None
) -> CallListEntry:
    """The account manager called the member; ``reached`` is the acknowledgement."""
    if outcome not in CallOutcome.values:
        raise DemandError(
            _("outcome: %(value)s is not a call outcome (%(known)s).")
            % {"value": outcome[:40], "known": ", ".join(CallOutcome.values)}
        )
    now = now or timezone.now()
    with transaction.atomic():
        entry = CallListEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.acknowledged_at is not None:
            raise DemandError(_("outcome: this member has already acknowledged the warning."))
        entry.outcome = outcome
        entry.note = note.strip()[:2000]
        entry.called_at = now
        entry.called_by = actor if getattr(actor, "pk", None) else None
        if outcome == CallOutcome.REACHED:
            entry.acknowledged_at = now
            EventWarning.objects.get_or_create(
                event_id=entry.event_id, customer_id=entry.customer_id, channel=WarningChannel.CALL
            )
        entry.save(update_fields=["outcome", "note", "called_at", "called_by", "acknowledged_at"])
        log_action(actor, "demand.call_recorded", entry, {"outcome": outcome})
        # The member also gets the windows in writing, once, after the call.
        event, customer_id = entry.event, entry.customer_id
        transaction.on_commit(lambda: _written_warning_for_member(event, customer_id))
    return entry


def _written_warning_for_member(event: DemandEvent, customer_id: int) -> None:
    from .fanout import warn_members

    warn_members(event, [customer_id])


def open_events(now=None):
    """Declared events that have not ended yet."""
    now = now or timezone.now()
    return DemandEvent.objects.filter(status=EventStatus.DECLARED, ends_at__gt=now)


def banner_events(customer, now=None) -> list[dict]:
    """What the portal tells a customer: each open event with its own sites' windows."""
    if customer is None:
        return []
    events = list(
        open_events(now)
        .filter(affected__feeder__sites__customer=customer)
        .distinct()
        .order_by("starts_at")[:5]
    )
    if not events:
        return []
    windows = (
        SheddingWindow.objects.filter(event__in=events, feeder__sites__customer=customer)
        .values("event_id", "feeder__sites__ref", "feeder__sites__address", "starts_at", "ends_at")
        .order_by("starts_at", "feeder__sites__ref")
    )
    by_event: dict[int, list] = {}
    for w in windows:
        by_event.setdefault(w["event_id"], []).append(
            {
                "site": w["feeder__sites__ref"],
                "address": w["feeder__sites__address"],
                "starts_at": w["starts_at"],
                "ends_at": w["ends_at"],
            }
        )
    return [{"event": e, "windows": by_event.get(e.pk, [])} for e in events]
