"""The work-order desk's entry points: intake, the lifecycle, comments and papers.

Pages, the API, commands and tasks call these; the rules live in
``lifecycle`` (state machine), ``sla`` (service commitments), ``routing``
(queues, assignment, the claim) and ``incidents`` (outages).
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from voltdesk.core import inserts
from voltdesk.core.access import (
    customer_of,
    sees_every_customer,
    sees_every_site,
    visible_customers,
    visible_sites,
)
from voltdesk.core.services import log_action
from voltdesk.customers.identifiers import InvalidValue, normalise_email, normalise_phone

from . import config, incidents, queries, routing, sla
from .choices import (
    OPEN_STATUSES,
    SUBTYPES_OF,
    Action,
    Channel,
    OrderType,
    Priority,
    Status,
    Subtype,
)
from .incidents import known_incident_for, resolve_incident
from .lifecycle import (
    ACTIONS,
    WorkOrderError,
    allowed_actions,
    cancel_as_duplicate,
    new_transition,
    transition,
)
from .models import Attachment, Comment, Incident, Queue, WorkOrder
from .routing import claim

__all__ = [
    "ACTIONS",
    "IntakeResult",
    "WorkOrderError",
    "add_attachment",
    "add_comment",
    "allowed_actions",
    "cancel_as_duplicate",
    "claim",
    "dispatch_to_crew",
    "known_incident_for",
    "open_orders_of",
    "open_work_order",
    "resolve_incident",
    "transition",
]

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
MAX_DESCRIPTION = 4000


@dataclass(frozen=True)
class IntakeResult:
    order: WorkOrder
    queue: Queue | None
    incident: Incident | None  # the outage this fault report joined or opened
    known_incident: Incident | None  # an outage the caller should be told about
    deadlines: list = field(default_factory=list)  # the commitments just started


def _priority(order: WorkOrder, priority) -> int:
    if priority is not None:
        if priority not in Priority.values:
            raise WorkOrderError(_("Unknown priority %(value)r.") % {"value": priority}, "priority")
        return priority
    if order.site_id and order.site.critical_load:
        return Priority.URGENT  # hospitals and life support first
    if order.is_member and order.order_type == OrderType.FAULT:
        return Priority.HIGH
    return Priority.NORMAL


def _is_member(customer) -> bool:
    """Whether the customer is in the club now (its membership's status is ``member``)."""
    if customer is None:
        return False
    from voltdesk.keyaccounts.choices import MembershipStatus

    return queries.membership_in(customer.pk, MembershipStatus.MEMBER)


def _check_codes(channel: str, order_type: str, subtype: str) -> None:
    if channel not in Channel.values:
        raise WorkOrderError(
            _("Unknown channel %(value)r: use one of %(codes)s.")
            % {"value": channel, "codes": ", ".join(Channel.values)},
            "channel",
        )
    if order_type not in OrderType.values:
        raise WorkOrderError(
            _("Unknown type %(value)r: use one of %(codes)s.")
            % {"value": order_type, "codes": ", ".join(OrderType.values)},
            "type",
        )
    if subtype in Subtype.values and subtype not in SUBTYPES_OF[order_type]:
        raise WorkOrderError(
            _("Subtype %(subtype)s does not belong to type %(type)s.")
            % {"subtype": subtype, "type": order_type},
            "subtype",
        )
    if len(subtype) > 40:
        raise WorkOrderError(_("The subtype is longer than 40 characters."), "subtype")


def find_caller(user, *, customer_ref: str = "", site_ref: str = ""):
    """(customer, site, is_member) of a caller named by customer and/or site number as
    ``user`` may see them, or None when either is not visible. A customer user acts for
    its own customer and may name only a site it holds now. ``is_member`` is None when
    not read here (intake then reads it).

    Staff who see every customer (or site), naming one, take one statement that also
    reads the club status (``queries.caller``); everyone else the access module's
    querysets.
    """
    named_one = bool(customer_ref) != bool(site_ref)
    if named_one and (sees_every_site(user) if site_ref else sees_every_customer(user)):
        site, customer, is_member = queries.caller(site_ref=site_ref, customer_ref=customer_ref)
        return None if customer is None else (customer, site, is_member)
    own = customer_of(user)
    customer = site = None
    if customer_ref:
        customer = visible_customers(user).filter(ref=customer_ref).first()
        if customer is None:
            return None
    elif own is not None:
        customer = own
    if site_ref:
        sites = visible_sites(user)
        if own is not None:
            sites = sites.filter(customer=own)  # a site it no longer holds is not its to report
        site = sites.select_related("area", "feeder", "customer").filter(ref=site_ref).first()
        if site is None:
            return None
    return customer, site, None


def open_work_order(
    *,
    channel: str,
    order_type: str,
    subtype: str = "",
    description: str = "",
    customer=None,
    site=None,
    caller_name: str = "",
    caller_phone: str = "",
    caller_email: str = "",
    priority=None,
    area=None,
    feeder=None,
    actor=None,
    created_at=None,
    is_member: bool | None = None,
) -> IntakeResult:
    """Take in a contact: a routed, timed work order, linked to its outage if it is one.

    The site fills in its area and feeder and, when no customer is given, its
    holder; club membership at intake decides the queue and the commitments.
    """
    subtype = (subtype or "").strip()
    _check_codes(channel, order_type, subtype)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise WorkOrderError(
            _("The description is too long: at most %(limit)s characters.")
            % {"limit": MAX_DESCRIPTION},
            "description",
        )
    try:
        phone = normalise_phone(caller_phone, config.current().country) if caller_phone else ""
    except InvalidValue as exc:
        raise WorkOrderError(str(exc), "caller_phone") from exc
    try:
        email = normalise_email(caller_email) if caller_email else ""
    except InvalidValue as exc:
        raise WorkOrderError(str(exc), "caller_email") from exc
    if site is not None:
        if customer is None:
            customer = site.customer
        elif site.customer_id != customer.pk:
            raise WorkOrderError(
                _("Site %(site)s does not belong to customer %(customer)s.")
                % {"site": site.ref, "customer": customer.ref},
                "site_ref",
            )
        area = area or site.area
        feeder = feeder or site.feeder
    if feeder is not None and area is None:
        area = feeder.area
    order = WorkOrder(
        channel=channel,
        order_type=order_type,
        subtype=subtype,
        description=description,
        customer=customer,
        site=site,
        caller_name=(caller_name or "").strip()[:200],
        caller_phone=phone,
        caller_email=email,
        area=area,
        feeder=feeder,
        is_member=_is_member(customer) if is_member is None else is_member,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if created_at is not None:
        order.created_at = created_at
    order.priority = _priority(order, priority)
    with transaction.atomic():
        # A fault joins (or opens) its outage before the order is written, so the
        # order is saved once; other contacts only learn of an outage nearby.
        incident, existed = incidents.link_fault(order, save=False)
        known = incident if existed else None
        if order.order_type != OrderType.FAULT:
            known = known_incident_for(site=site, area=area, feeder=feeder)
        order.queue = routing.choose_queue(order)
        created = new_transition(
            order, Action.CREATE, "", order.status, actor=actor, at=order.created_at
        )
        deadlines = sla.new_deadlines(order)
        # The order, its first transition and its commitments in one round trip (PostgreSQL).
        inserts.insert_with(order, [created, *deadlines], link="work_order")
        routing.assign_least_loaded(order)
        log_action(actor, "workorders.opened", order, {"type": order_type, "channel": channel})
    return IntakeResult(
        order=order,
        queue=order.queue,
        incident=incident,
        known_incident=known,
        deadlines=deadlines,
    )


def dispatch_to_crew(order: WorkOrder, crew, *, actor=None, note: str = "") -> WorkOrder:
    """Send a crew: the order is accepted first if it was new, then dispatched."""
    if not crew.active:
        raise WorkOrderError(_("Crew %(crew)s is not active.") % {"crew": crew.name}, "crew")
    with transaction.atomic():
        order = WorkOrder.objects.select_for_update().get(pk=order.pk)
        if order.status == Status.NEW:
            order = transition(order, Action.ACCEPT, actor=actor)
        WorkOrder.objects.filter(pk=order.pk).update(crew=crew)
        note = note or _("Crew %(crew)s sent") % {"crew": crew.name}
        order = transition(order, Action.DISPATCH, actor=actor, note=note)
    return order


def add_comment(order: WorkOrder, *, author=None, body: str, internal: bool = False) -> Comment:
    body = (body or "").strip()
    if not body:
        raise WorkOrderError(_("Write something in the comment."), "body")
    if len(body) > MAX_DESCRIPTION:
        raise WorkOrderError(
            _("The comment is too long: at most %(limit)s characters.")
            % {"limit": MAX_DESCRIPTION},
            "body",
        )
    return Comment.objects.create(
        work_order=order,
        author=author if getattr(author, "pk", None) else None,
        body=body,
        internal=internal,
    )


def add_attachment(order: WorkOrder, *, uploaded_by=None, uploaded_file) -> Attachment:
    """Keep a file with the order: PDF, JPEG or PNG up to 10 MB."""
    size = getattr(uploaded_file, "size", 0) or 0
    if size == 0:
        raise WorkOrderError(_("The file is empty."), "file")
    if size > MAX_ATTACHMENT_BYTES:
        raise WorkOrderError(_("The file is larger than 10 MB."), "file")
    content_type = getattr(uploaded_file, "content_type", "") or ""
    head = uploaded_file.read(8)
    uploaded_file.seek(0)
    sniffed = (
        "application/pdf"
        if head.startswith(b"%PDF")
        else "image/png"
        if head.startswith(b"\x89PNG")
        else "image/jpeg"
        if head.startswith(b"\xff\xd8\xff")
        else ""
    )
    # The declared type is the browser's guess; the first bytes decide.
    if sniffed not in ATTACHMENT_TYPES or (content_type and content_type != sniffed):
        raise WorkOrderError(_("Only PDF, JPEG and PNG files can be attached."), "file")
    name = (getattr(uploaded_file, "name", "") or "file")[-200:]
    return Attachment.objects.create(
        work_order=order,
        file=uploaded_file,
        name=name,
        content_type=sniffed,
        size=size,
        uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
    )


def open_orders_of(customer):
    """The customer's orders still being worked, newest first."""
    return WorkOrder.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by(
        "-created_at", "-pk"
    )
