"""Work orders over the API: create, read, list, transitions, comments and attachments.

Rows come from ``core.access``: a customer user (its own API key) sees and
creates only its own customer's orders, and another customer's number answers
404. Staff need the work-order permissions of their role. An illegal
transition answers 409 with the reason; bad input 422 naming the field.
"""

import datetime as dt
from typing import Annotated

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from voltdesk.api.auth import acting_user, require_view
from voltdesk.api.errors import InvalidInput
from voltdesk.api.pagination import LimitOffset
from voltdesk.api.params import PRINTABLE, REF_MAX, parse_moment
from voltdesk.core.access import (
    customer_of,
    visible_work_order_attachments,
    visible_work_order_comments,
    visible_work_orders,
)

from . import services, sla
from .choices import Action
from .models import WorkOrder

router = Router(tags=["work orders"])

Number = Annotated[
    str,
    Path(
        min_length=1,
        max_length=12,
        pattern=r"^[0-9]+$",
        description="The work-order number (digits; leading zeros allowed).",
    ),
]
Code = Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]*$")]
Ref = Annotated[str | None, Query(max_length=REF_MAX, pattern=PRINTABLE)]


class DeadlineOut(Schema):
    commitment: str
    due_at: dt.datetime | None
    met_at: dt.datetime | None
    state: str


class WorkOrderOut(Schema):
    number: str
    type: str
    subtype: str
    channel: str
    status: str
    priority: int
    customer: str | None
    site: str | None
    area: str | None
    feeder: str | None
    caller_name: str
    caller_phone: str
    description: str
    club_member: bool
    queue: str | None = Field(None, description="Staff only; null for customers.")
    assignee: str | None = Field(None, description="Staff only; null for customers.")
    incident: int | None
    escalation_level: int
    satisfaction: int | None
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla_state: str = Field(..., description="ok, warning (due soon) or breached.")
    deadlines: list[DeadlineOut] = Field(default_factory=list)
    allowed_actions: list[str] = Field(default_factory=list)


class IntakeOut(WorkOrderOut):
    known_outage: dict | None = Field(
        None, description="An open outage at the caller's feeder or area: tell the caller."
    )


class WorkOrderIn(Schema):
    type: str = Field(
        ..., max_length=20, description="fault, consultation, business, complaint or suggestion."
    )
    channel: str = Field(
        "api", max_length=20, description="hotline, hall, web, app, onsite, email or api."
    )
    subtype: str = Field("", max_length=40, pattern=PRINTABLE)
    description: str = Field("", max_length=4000)
    customer_ref: str | None = Field(None, max_length=REF_MAX, pattern=PRINTABLE)
    site_ref: str | None = Field(None, max_length=REF_MAX, pattern=PRINTABLE)
    caller_name: str = Field("", max_length=200, pattern=PRINTABLE)
    caller_phone: str = Field("", max_length=30, pattern=PRINTABLE)
    caller_email: str = Field("", max_length=254, pattern=PRINTABLE)
    priority: int | None = Field(None, ge=1, le=4)


class TransitionIn(Schema):
    action: str = Field(..., max_length=20, description=", ".join(services.ACTIONS) + ".")
    note: str = Field("", max_length=2000)
    duplicate_of: str | None = Field(
        None, max_length=12, pattern=r"^[0-9]+$", description="For cancel_duplicate."
    )


class CommentIn(Schema):
    body: str = Field(..., max_length=4000)
    internal: bool = Field(False, description="Staff only: hidden from the customer.")


class CommentOut(Schema):
    id: int
    author: str | None
    body: str
    internal: bool
    at: dt.datetime


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    at: dt.datetime


def _out(order: WorkOrder, user, *, detail: bool, now=None, deadlines=None) -> dict:
    """The answer for an order; ``deadlines`` when the caller already holds them (intake)."""
    now = now or timezone.now()
    staff = customer_of(user) is None
    if detail and deadlines is None:
        deadlines = list(order.deadlines.order_by("pk"))
    if hasattr(order, "next_due"):
        state = sla.state_of(order.next_due, order.next_warn, now)
    else:
        pending = [d for d in deadlines or [] if d.met_at is None and d.due_at is not None]
        state = sla.state_of(
            min((d.due_at for d in pending), default=None),
            min((d.warn_at for d in pending), default=None),
            now,
        )
    data = {
        "number": order.number,
        "type": order.order_type,
        "subtype": order.subtype,
        "channel": order.channel,
        "status": order.status,
        "priority": order.priority,
        "customer": order.customer.ref if order.customer_id else None,
        "site": order.site.ref if order.site_id else None,
        "area": order.area.name if order.area_id else None,
        "feeder": order.feeder.name if order.feeder_id else None,
        "caller_name": order.caller_name,
        "caller_phone": order.caller_phone,
        "description": order.description,
        "club_member": order.is_member,
        "queue": order.queue.code if staff and order.queue_id else None,
        "assignee": order.assignee.username if staff and order.assignee_id else None,
        "incident": order.incident_id,
        "escalation_level": order.escalation_level,
        "satisfaction": order.satisfaction,
        "created_at": order.created_at,
        "accepted_at": order.accepted_at,
        "resolved_at": order.resolved_at,
        "closed_at": order.closed_at,
        "sla_state": state,
    }
    if detail:
        data["deadlines"] = [
            {
                "commitment": d.clock,
                "due_at": d.due_at,
                "met_at": d.met_at,
                "state": "met"
                if d.met_at
                else sla.state_of(d.due_at, d.warn_at, now)
                if d.due_at
                else "waiting",
            }
            for d in deadlines
        ]
        data["allowed_actions"] = services.allowed_actions(order) if staff else []
    return data


def _related(qs):
    return qs.select_related("customer", "site", "area", "feeder", "queue", "assignee")


def _order(user, number: str) -> WorkOrder:
    return get_object_or_404(_related(visible_work_orders(user)), pk=int(number))


def _refused(exc: services.WorkOrderError):
    if exc.field == "action" and "cannot be given" in str(exc):
        return HttpError(409, str(exc))
    return InvalidInput(exc.field or "", str(exc))


def _require(user, perm: str) -> None:
    if customer_of(user) is None and not user.has_perm(perm):
        raise HttpError(403, _("You do not have permission to do this."))


@router.get("/workorders", response=list[WorkOrderOut], summary="List work orders")
@paginate(LimitOffset)
def list_work_orders(
    request,
    status: Code = None,
    type: Code = None,  # noqa: A002 - the interface's own name
    channel: Code = None,
    customer_ref: Ref = None,
    site_ref: Ref = None,
    area: Ref = None,
    created_from: Annotated[str | None, Query(max_length=40)] = None,
    created_to: Annotated[str | None, Query(max_length=40)] = None,
):
    user = require_view(request, "workorders.view_workorder")
    qs = visible_work_orders(user)
    if status:
        qs = qs.filter(status=status)
    if type:
        qs = qs.filter(order_type=type)
    if channel:
        qs = qs.filter(channel=channel)
    if customer_ref:
        qs = qs.filter(customer__ref=customer_ref)
    if site_ref:
        qs = qs.filter(site__ref=site_ref)
    if area:
        qs = qs.filter(area__name=area)
    start = parse_moment("created_from", created_from)
    end = parse_moment("created_to", created_to)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    now = timezone.now()
    rows = sla.with_sla(_related(qs)).order_by("-created_at", "-pk")
    return _Mapped(rows, lambda o: _out(o, user, detail=False, now=now))


class _Mapped:
    """A queryset the paginator slices and counts, mapped to output rows after slicing."""

    def __init__(self, qs, fn):
        self.qs, self.fn = qs, fn

    def count(self):
        return self.qs.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, key):
        return [self.fn(o) for o in self.qs[key]]


@router.post("/workorders", response={201: IntakeOut}, summary="Open a work order")
def create_work_order(request, payload: WorkOrderIn):
    user = acting_user(request)
    _require(user, "workorders.add_workorder")
    found = services.find_caller(user, customer_ref=payload.customer_ref, site_ref=payload.site_ref)
    if found is None:
        raise Http404
    customer, site, is_member = found
    try:
        result = services.open_work_order(
            channel=payload.channel,
            order_type=payload.type,
            subtype=payload.subtype,
            description=payload.description,
            customer=customer,
            site=site,
            caller_name=payload.caller_name,
            caller_phone=payload.caller_phone,
            caller_email=payload.caller_email,
            priority=payload.priority,
            actor=user,
            is_member=is_member,
        )
    except services.WorkOrderError as exc:
        raise _refused(exc) from None
    # The order as intake left it: its relations and deadlines are in hand, no re-reading.
    data = _out(result.order, user, detail=True, deadlines=result.deadlines)
    known = result.known_incident
    data["known_outage"] = (
        {"incident": known.pk, "since": known.opened_at.isoformat()} if known else None
    )
    return Status(201, data)


@router.get("/workorders/{number}", response=WorkOrderOut, summary="A work order")
def get_work_order(request, number: Number):
    user = require_view(request, "workorders.view_workorder")
    return _out(_order(user, number), user, detail=True)


@router.post(
    "/workorders/{number}/transitions",
    response=WorkOrderOut,
    summary="Move a work order along its life (accept, dispatch, start, resolve, ...)",
)
def post_transition(request, number: Number, payload: TransitionIn):
    user = acting_user(request)
    if customer_of(user) is not None:
        raise HttpError(403, _("Only staff move work orders along."))
    _require(user, "workorders.change_workorder")
    order = _order(user, number)
    try:
        if payload.action == Action.CANCEL_DUPLICATE:
            if not payload.duplicate_of:
                raise services.WorkOrderError(
                    _("Name the order this one duplicates."), "duplicate_of"
                )
            original = visible_work_orders(user).filter(pk=int(payload.duplicate_of)).first()
            if original is None:
                raise services.WorkOrderError(
                    _("No work order has the number %(number)s.")
                    % {"number": payload.duplicate_of},
                    "duplicate_of",
                )
            services.cancel_as_duplicate(order, original, actor=user, note=payload.note)
        else:
            services.transition(order, payload.action, actor=user, note=payload.note)
    except services.WorkOrderError as exc:
        raise _refused(exc) from None
    return _out(_order(user, number), user, detail=True)


@router.get(
    "/workorders/{number}/comments", response=list[CommentOut], summary="A work order's comments"
)
@paginate(LimitOffset)
def list_comments(request, number: Number):
    user = require_view(request, "workorders.view_workorder")
    order = _order(user, number)
    comments = visible_work_order_comments(user).filter(work_order=order).select_related("author")
    return [
        {
            "id": c.pk,
            "author": c.author.username if c.author_id else None,
            "body": c.body,
            "internal": c.internal,
            "at": c.at,
        }
        for c in comments.order_by("at", "pk")
    ]


@router.post(
    "/workorders/{number}/comments", response={201: CommentOut}, summary="Comment on a work order"
)
def post_comment(request, number: Number, payload: CommentIn):
    user = acting_user(request)
    _require(user, "workorders.add_comment")
    order = _order(user, number)
    internal = payload.internal and customer_of(user) is None
    try:
        comment = services.add_comment(order, author=user, body=payload.body, internal=internal)
    except services.WorkOrderError as exc:
        raise _refused(exc) from None
    return Status(
        201,
        {
            "id": comment.pk,
            "author": user.username,
            "body": comment.body,
            "internal": comment.internal,
            "at": comment.at,
        },
    )


@router.get(
    "/workorders/{number}/attachments",
    response=list[AttachmentOut],
    summary="A work order's attachments",
)
@paginate(LimitOffset)
def list_attachments(request, number: Number):
    user = require_view(request, "workorders.view_workorder")
    order = _order(user, number)
    return visible_work_order_attachments(user).filter(work_order=order).order_by("at", "pk")


@router.post(
    "/workorders/{number}/attachments",
    response={201: AttachmentOut},
    summary="Attach a file (PDF, JPEG or PNG, up to 10 MB)",
)
def post_attachment(request, number: Number, file: File[UploadedFile]):
    user = acting_user(request)
    _require(user, "workorders.add_attachment")
    order = _order(user, number)
    try:
        attachment = services.add_attachment(order, uploaded_by=user, uploaded_file=file)
    except services.WorkOrderError as exc:
        raise _refused(exc) from None
    return Status(201, attachment)
