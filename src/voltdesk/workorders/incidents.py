"""Outage incidents: fault reports from one feeder (else one area) close in time are one outage.

A fault report joins the open incident of its feeder — or, when the feeder is
unknown, of its area — if that incident's latest report is at most
``JOIN_WINDOW`` old; otherwise it opens a new incident. One repair resolves the
incident: every linked open order is resolved and every caller is told, in
their language, that power is back. A caller from a feeder or area with an open
incident is told about it at intake.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core import inserts
from voltdesk.core.services import get_utility, log_action
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.services import NotificationError, queue_message

from . import queries
from .choices import OPEN_STATUSES, Action, IncidentStatus, OrderType, Status
from .models import Incident, WorkOrder

# Reports further apart than this are treated as separate outages.
JOIN_WINDOW = timedelta(hours=2)


def known_incident_for(*, site=None, area=None, feeder=None) -> Incident | None:
    """The open incident a caller at this site, feeder or area should be told about."""
    if site is not None:
        feeder = feeder or site.feeder
        area = area or site.area
    if feeder is None and area is None:
        return None
    return queries.open_incident(
        feeder_id=feeder.pk if feeder is not None else None,
        area_id=area.pk if area is not None else None,
    )


def link_fault(order: WorkOrder, *, save: bool = True) -> tuple[Incident | None, bool]:
    """Link a fault order to its incident; returns (incident, whether it already existed).

    With ``save=False`` the order is only given its incident (intake saves it once).
    """
    if order.order_type != OrderType.FAULT or (order.feeder_id is None and order.area_id is None):
        return None, False
    at = order.created_at
    incident = queries.open_incident(
        feeder_id=order.feeder_id, area_id=order.area_id, since=at - JOIN_WINDOW, to_join=True
    )
    existed = incident is not None
    if incident is None:
        incident = Incident(
            feeder_id=order.feeder_id, area_id=order.area_id, opened_at=at, last_report_at=at
        )
        inserts.insert([incident])
    elif at > incident.last_report_at:
        queries.report_at(incident, at)
    order.incident = incident
    if save:
        order.save(update_fields=["incident", "updated_at"])
    return incident, existed


def resolve_incident(incident: Incident, *, actor=None, cause: str = "") -> int:
    """Power is back: resolve every linked open order and tell every caller. Returns the count."""
    from .lifecycle import transition

    now = timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status != IncidentStatus.OPEN:
            return 0
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = now
        incident.cause = cause
        incident.resolved_by = actor if getattr(actor, "pk", None) else None
        incident.save(update_fields=["status", "resolved_at", "cause", "resolved_by"])
        orders = list(
            WorkOrder.objects.filter(incident=incident, status__in=OPEN_STATUSES)
            .select_related("customer")
            .order_by("pk")
        )
        note = _("Power back: outage incident %(incident)s resolved") % {"incident": incident.pk}
        for order in orders:
            # An order not yet worked is taken through to resolved in one go, each step recorded.
            if order.status == Status.NEW:
                order = transition(order, Action.ACCEPT, actor=actor, note=note, at=now)
            if order.status in (Status.ACCEPTED, Status.DISPATCHED):
                order = transition(order, Action.START, actor=actor, note=note, at=now)
            order = transition(order, Action.RESOLVE, actor=actor, note=note, at=now)
            _tell_power_back(order, incident)
        log_action(actor, "workorders.incident_resolved", incident, {"orders": len(orders)})
    return len(orders)


def _tell_power_back(order: WorkOrder, incident: Incident) -> None:
    customer = order.customer
    phone = order.caller_phone or (customer.phone if customer else "")
    email = order.caller_email or (customer.email if customer else "")
    language = (customer.language if customer else "") or get_utility().default_language
    payload = {"work_order_ref": order.number, "resolved_at": incident.resolved_at.isoformat()}
    for channel, address in ((Channel.SMS, phone), (Channel.EMAIL, email)):
        if not address:
            continue
        try:
            queue_message(
                channel=channel,
                template="power_back",
                payload=payload,
                dedupe_key=f"workorders:power-back:{order.pk}",
                customer=customer,
                address=address,
                language=language,
            )
            return
        except NotificationError:
            continue
