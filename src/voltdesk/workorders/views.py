"""The work-order desk's pages: queue, intake, an order, the dispatch board.

Rows come from ``core.access``; every change goes through ``services``; a
refusal is shown next to its field or form on the page, never as a 500.

Who may do what (``core.roles``): every desk role reads orders; agents, account
managers, dispatchers and supervisors open, claim and move them
(``change_workorder``), comment (``add_comment``) and attach files
(``add_attachment``); sending a crew and declaring power back are the
dispatchers' and supervisors' (``change_incident``), and so is the dispatch
board.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voltdesk.core.access import (
    visible_customers,
    visible_incidents,
    visible_sites,
    visible_work_order_attachments,
    visible_work_order_comments,
    visible_work_orders,
)
from voltdesk.core.models import Area
from voltdesk.core.services import utility_zone
from voltdesk.desk.views import staff_required

from . import services, sla
from .choices import (
    OPEN_STATUSES,
    SUBTYPES_OF,
    Action,
    Channel,
    IncidentStatus,
    OrderType,
    Status,
    Subtype,
)
from .forms import CommentForm, IntakeForm, error_to_form
from .models import Crew, Queue

QUEUE_LIMIT = 200
CARD_SITES = 20
CARD_ORDERS = 10
MAX_NUMBER_DIGITS = 12

VIEW = "workorders.view_workorder"
ADD = "workorders.add_workorder"
WORK = "workorders.change_workorder"
COMMENT = "workorders.add_comment"
ATTACH = "workorders.add_attachment"
DISPATCH = "workorders.change_incident"

ACTION_STYLE = {
    Action.RESOLVE: "btn-success",
    Action.CLOSE: "btn-success",
    Action.ESCALATE: "btn-outline-danger",
    Action.REOPEN: "btn-outline-warning",
}
DISPATCHABLE = (Status.NEW, Status.ACCEPTED)
# Work for a crew in the field: repairs, orders taken on site, and visits to a meter.
FIELD_WORK = (
    Q(order_type=OrderType.FAULT)
    | Q(channel=Channel.ONSITE)
    | Q(subtype__in=[Subtype.METER_TEST, Subtype.NEW_CONNECTION])
)


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def _with_state(orders, now):
    for order in orders:
        order.sla = sla.state_of(order.next_due, order.next_warn, now)
    return orders


def _subtype_label(code: str) -> str:
    return Subtype(code).label if code in Subtype.values else code


def _local_hhmm(moment) -> str:
    return timezone.localtime(moment, utility_zone()).strftime("%H:%M")


def _outage_words(incident) -> dict:
    return {
        "place": incident.feeder.name if incident.feeder_id else incident.area.name,
        "since": _local_hhmm(incident.opened_at),
    }


INT = IntegerField()


def _most_urgent_first(qs):
    """Unassigned first, then the nearest due time, priority, age (the same on every database)."""
    return sla.with_sla(qs).order_by(
        Case(When(assignee__isnull=True, then=Value(0)), default=Value(1), output_field=INT),
        F("next_due").asc(nulls_last=True),
        "-priority",
        "created_at",
        "pk",
    )


# The queue

STATUS_FILTER = "open"


@staff_required
def queue(request):
    """My queues' orders, unassigned first, with their SLA colours; filters by status and type."""
    user = request.user
    _need(user, VIEW)
    mine = Queue.objects.filter(agents=user)
    has_queues = mine.exists()
    scope = request.GET.get("scope", "")
    if scope not in ("mine", "all") or (scope == "mine" and not has_queues):
        scope = "mine" if has_queues else "all"
    status = request.GET.get("status", STATUS_FILTER)
    if status != STATUS_FILTER and status not in Status.values:
        status = STATUS_FILTER
    order_type = request.GET.get("type", "")
    if order_type not in OrderType.values:
        order_type = ""

    orders = visible_work_orders(user)
    if status == STATUS_FILTER:
        orders = orders.filter(status__in=OPEN_STATUSES)
    else:
        orders = orders.filter(status=status)
    if scope == "mine":
        orders = orders.filter(queue__in=mine)
    if order_type:
        orders = orders.filter(order_type=order_type)
    rows = list(
        _most_urgent_first(orders.select_related("customer", "area", "queue", "assignee"))[
            : QUEUE_LIMIT + 1
        ]
    )
    return render(
        request,
        "workorders/queue.html",
        {
            "nav": "orders",
            "orders": _with_state(rows[:QUEUE_LIMIT], timezone.now()),
            "more": len(rows) > QUEUE_LIMIT,
            "limit": QUEUE_LIMIT,
            "scope": scope,
            "status": status,
            "statuses": [(STATUS_FILTER, _("Open")), *Status.choices],
            "type": order_type,
            "types": OrderType.choices,
            "has_queues": has_queues,
            "may_claim": user.has_perm(WORK),
            "open_statuses": OPEN_STATUSES,
        },
    )


# Intake


def _caller_card(user, find: str):
    """Who is calling, from a phone number or a customer or site number.

    Returns (card, error). The card holds the customer with its sites, club
    status and account manager, its open orders and any known outage on its
    sites; for an unknown number, the open orders earlier calls from it opened.
    """
    from voltdesk.core.services import get_utility
    from voltdesk.customers.identifiers import InvalidValue, normalise_phone
    from voltdesk.keyaccounts.choices import MembershipStatus
    from voltdesk.keyaccounts.portfolio import current_manager

    customers = visible_customers(user)
    customer = customers.filter(ref__iexact=find).first()
    site = phone = None
    if customer is None:
        site = visible_sites(user).filter(ref__iexact=find).select_related("customer").first()
        customer = site.customer if site is not None else None
    if customer is None:
        try:
            phone = normalise_phone(find, get_utility().country)
        except InvalidValue:
            return None, _("No customer, site or phone number matches %(find)s.") % {"find": find}
        customer = (
            customers.filter(phone=phone).order_by("-pk").first()
            or customers.filter(contacts__phone=phone).order_by("-pk").first()
        )
    if customer is None:
        calls = visible_work_orders(user).filter(caller_phone=phone, status__in=OPEN_STATUSES)
        return {
            "phone": phone,
            "customer": None,
            "open_orders": calls.order_by("-created_at")[:CARD_ORDERS],
        }, None
    sites = list(
        visible_sites(user)
        .filter(customer=customer)
        .select_related("area", "feeder")
        .order_by("ref")[: CARD_SITES + 1]
    )
    if site is None and len(sites) == 1:
        site = sites[0]
    outage = None
    for candidate in [site] if site is not None else sites[:CARD_SITES]:
        outage = services.known_incident_for(site=candidate)
        if outage is not None:
            break
    membership = getattr(customer, "membership", None)
    member = membership is not None and membership.status == MembershipStatus.MEMBER
    return {
        "phone": phone or customer.phone,
        "customer": customer,
        "site": site,
        "sites": sites[:CARD_SITES],
        "more_sites": len(sites) > CARD_SITES,
        "member": member,
        "manager": current_manager(customer) if member else None,
        "open_orders": visible_work_orders(user, services.open_orders_of(customer))[:CARD_ORDERS],
        "outage": outage,
    }, None


@staff_required
def intake(request):
    """Take a call: find the caller (htmx): club status, orders, outages; open an order."""
    user = request.user
    _need(user, ADD)
    find = request.GET.get("find", "").strip()[:100]
    card, find_error = _caller_card(user, find) if find else (None, None)
    initial = {}
    if card is not None:
        initial["caller_phone"] = card["phone"]
        if card["customer"] is not None:
            initial["customer_ref"] = card["customer"].ref
            if card["site"] is not None:
                initial["site_ref"] = card["site"].ref
    form = IntakeForm(request.POST or None, initial=initial)
    if card is not None and not form.is_bound:
        form.fields["order_type"].widget.attrs["autofocus"] = True  # the caller is known: on
    context = {
        "nav": "new_order",
        "form": form,
        "find": find,
        "card": card,
        "find_error": find_error,
        "subtypes_of": {
            order_type: [(code, Subtype(code).label) for code in codes]
            for order_type, codes in SUBTYPES_OF.items()
        },
    }
    if request.method == "GET" and _is_htmx(request):
        # The caller card, and the caller's numbers put into the order form out of band.
        return render(request, "workorders/caller_card.html", {**context, "oob": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = site = None
        if data["customer_ref"]:
            customer = visible_customers(user).filter(ref__iexact=data["customer_ref"]).first()
            if customer is None:
                form.add_error("customer_ref", _("No customer has this number."))
        if data["site_ref"]:
            site = visible_sites(user).filter(ref__iexact=data["site_ref"]).first()
            if site is None:
                form.add_error("site_ref", _("No site has this number."))
        if not form.errors:
            try:
                result = services.open_work_order(
                    channel=data["channel"],
                    order_type=data["order_type"],
                    subtype=data["subtype"],
                    description=data["description"],
                    customer=customer,
                    site=site,
                    caller_name=data["caller_name"],
                    caller_phone=data["caller_phone"],
                    caller_email=data["caller_email"],
                    priority=data["priority"],
                    actor=user,
                )
            except services.WorkOrderError as exc:
                error_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Work order %(number)s opened.") % {"number": result.order.number},
                )
                if result.known_incident is not None:
                    messages.warning(
                        request,
                        _(
                            "Tell the caller: a known outage on %(place)s since %(since)s "
                            "is being repaired."
                        )
                        % _outage_words(result.known_incident),
                    )
                return redirect("desk:orders:detail", pk=result.order.pk)
    return render(request, "workorders/intake.html", context)


# One order


def _parse_pk(value: str) -> int | None:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > MAX_NUMBER_DIGITS:
        return None
    return int(value)


def _crews_for(order):
    crews = Crew.objects.filter(active=True).order_by("name")
    return crews.filter(area_id=order.area_id) if order.area_id else crews


def _do(request, order):
    """One POSTed action on the order page; returns (form, error) or (None, None) when done.

    ``form`` names where the error is shown: action, dispatch, duplicate,
    comment (a bound form with its errors) or attach.
    """
    user = request.user
    action = request.POST.get("action", "")
    note = (request.POST.get("note") or "").strip()[:2000]
    try:
        if action == "comment":
            _need(user, COMMENT)
            form = CommentForm(request.POST)
            if not form.is_valid():
                return form, None
            try:
                services.add_comment(
                    order,
                    author=user,
                    body=form.cleaned_data["body"],
                    internal=form.cleaned_data["internal"],
                )
            except services.WorkOrderError as exc:
                form.add_error("body", str(exc))
                return form, None
            return None, None
        if action == "attach":
            _need(user, ATTACH)
            upload = request.FILES.get("file")
            if upload is None:
                return "attach", _("Choose a file to attach.")
            services.add_attachment(order, uploaded_by=user, uploaded_file=upload)
            return None, None
        if action == "dispatch":
            _need(user, DISPATCH)
            crew_id = _parse_pk(request.POST.get("crew"))
            crew = _crews_for(order).filter(pk=crew_id).first() if crew_id else None
            if crew is None:
                return "dispatch", _("Choose a crew.")
            services.dispatch_to_crew(order, crew, actor=user)
            return None, None
        _need(user, WORK)
        if action == "claim":
            if not services.claim(order, user):
                return "action", _("Someone else took this order first.")
            return None, None
        if action == Action.CANCEL_DUPLICATE:
            typed = request.POST.get("duplicate_of", "")
            number = _parse_pk(typed)
            original = visible_work_orders(user).filter(pk=number).first() if number else None
            if original is None:
                return "duplicate", _("No work order has the number %(number)s.") % {
                    "number": typed.strip()[:20]
                }
            services.cancel_as_duplicate(order, original, actor=user, note=note)
            return None, None
        services.transition(order, action, actor=user, note=note)
    except services.WorkOrderError as exc:
        where = {"duplicate_of": "duplicate", "crew": "dispatch", "file": "attach"}
        return where.get(exc.field, "action"), str(exc)
    return None, None


def _back_to(request, order):
    """After an action: the dispatch board when it was sent from there, else the order."""
    if request.POST.get("next") == "dispatch" and request.user.has_perm(DISPATCH):
        return redirect("desk:orders:dispatch")
    return redirect("desk:orders:detail", pk=order.pk)


@staff_required
def detail(request, pk):
    """One order: commitments in colour, the actions allowed now, history, comments, files."""
    user = request.user
    _need(user, VIEW)
    order = get_object_or_404(
        visible_work_orders(user).select_related(
            "customer",
            "site",
            "area",
            "feeder",
            "queue",
            "assignee",
            "crew",
            "incident",
            "duplicate_of",
        ),
        pk=pk,
    )
    errors, comment_form = {}, CommentForm()
    if request.method == "POST":
        where, error = _do(request, order)
        if where is None:
            return _back_to(request, order)
        if isinstance(where, CommentForm):
            comment_form = where
        else:
            errors[where] = error
        order.refresh_from_db()
    now = timezone.now()
    deadlines = []
    for d in order.deadlines.select_related("policy").order_by("pk"):
        d.state = (
            "met" if d.met_at else sla.state_of(d.due_at, d.warn_at, now) if d.due_at else "waiting"
        )
        deadlines.append(d)
    allowed = services.allowed_actions(order)
    may_work = user.has_perm(WORK)
    return render(
        request,
        "workorders/detail.html",
        {
            "nav": "orders",
            "order": order,
            "subtype_label": _subtype_label(order.subtype),
            "deadlines": deadlines,
            "sla_state": sla.sla_state(order, now),
            "actions": [
                (a, Action(a).label, ACTION_STYLE.get(a, "btn-outline-primary"))
                for a in allowed
                if a not in (Action.CANCEL_DUPLICATE, Action.DISPATCH)
            ]
            if may_work
            else [],
            "may_work": may_work,
            # dispatch_to_crew accepts a new order on the way, as the board offers it.
            "may_dispatch": order.status in DISPATCHABLE and user.has_perm(DISPATCH),
            "may_cancel": Action.CANCEL_DUPLICATE in allowed and may_work,
            "may_claim": may_work and order.assignee_id is None and order.status in OPEN_STATUSES,
            "may_comment": user.has_perm(COMMENT),
            "may_attach": user.has_perm(ATTACH),
            "crews": _crews_for(order),
            "transitions": order.transitions.select_related("actor").order_by("at", "pk"),
            "comments": visible_work_order_comments(user)
            .filter(work_order=order)
            .select_related("author"),
            "attachments": visible_work_order_attachments(user).filter(work_order=order),
            "comment_form": comment_form,
            "errors": errors,
        },
    )


@staff_required
def attachment(request, pk, file_pk):
    """A file kept with an order, downloaded (never shown inline)."""
    _need(request.user, VIEW)
    found = get_object_or_404(
        visible_work_order_attachments(request.user).filter(work_order_id=pk), pk=file_pk
    )
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=found.name, content_type=found.content_type
    )


# The dispatch board


@staff_required
def dispatch_board(request):
    """Field orders (repairs, on-site, meter visits) by area with crews to send; open outages."""
    user = request.user
    _need(user, DISPATCH)
    orders = visible_work_orders(user).filter(FIELD_WORK, status__in=OPEN_STATUSES)
    areas = Area.objects.filter(
        pk__in=orders.exclude(area__isnull=True).values("area_id")
    ).order_by("name")
    area_id = _parse_pk(request.GET.get("area", ""))
    if area_id is not None:
        orders = orders.filter(area_id=area_id)
    rows = list(
        sla.with_sla(
            orders.select_related("customer", "site", "area", "feeder", "crew", "incident")
        ).order_by(
            F("area__name").asc(nulls_last=True),
            F("next_due").asc(nulls_last=True),
            "-priority",
            "created_at",
            "pk",
        )[: QUEUE_LIMIT + 1]
    )
    orders_shown = _with_state(rows[:QUEUE_LIMIT], timezone.now())
    crews = list(Crew.objects.filter(active=True).select_related("area").order_by("name"))
    by_area: dict[int, list] = {}
    for crew in crews:
        by_area.setdefault(crew.area_id, []).append(crew)
    for order in orders_shown:
        order.crews = by_area.get(order.area_id, []) if order.area_id else crews
    incidents = (
        visible_incidents(user)
        .filter(status=IncidentStatus.OPEN)
        .select_related("area", "feeder")
        .annotate(
            reports=Count("work_orders"),
            open_reports=Count("work_orders", filter=Q(work_orders__status__in=OPEN_STATUSES)),
        )
        .order_by("opened_at", "pk")
    )
    return render(
        request,
        "workorders/dispatch.html",
        {
            "nav": "dispatch",
            "orders": orders_shown,
            "more": len(rows) > QUEUE_LIMIT,
            "limit": QUEUE_LIMIT,
            "areas": areas,
            "dispatchable": DISPATCHABLE,
            "area_id": area_id,
            "incidents": incidents,
        },
    )


@require_POST
@staff_required
def power_back(request, pk):
    """Power is back: resolve the outage and every report linked to it."""
    user = request.user
    _need(user, DISPATCH)
    incident = get_object_or_404(visible_incidents(user), pk=pk)
    if incident.status != IncidentStatus.OPEN:  # a second click: the board shows it gone
        return redirect("desk:orders:dispatch")
    cause = (request.POST.get("cause") or "").strip()[:2000]
    try:
        count = services.resolve_incident(incident, actor=user, cause=cause)
    except services.WorkOrderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Outage %(incident)s resolved: %(count)s reports resolved and their callers told.")
            % {"incident": incident.pk, "count": count},
        )
    return redirect("desk:orders:dispatch")
