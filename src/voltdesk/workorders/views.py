"""The work-order desk's pages: queue, intake, an order, the dispatch board.

Rows come from ``core.access``; every change goes through ``services``; a
refusal is shown next to its field or at the top of the form, never as a 500.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voltdesk.core.access import (
    visible_customers,
    visible_incidents,
    visible_sites,
    visible_work_order_comments,
    visible_work_orders,
)
from voltdesk.desk.views import staff_required

from . import services, sla
from .choices import OPEN_STATUSES, Action, OrderType
from .forms import CommentForm, IntakeForm
from .models import Crew, Queue

QUEUE_LIMIT = 200
ACTION_STYLE = {
    Action.RESOLVE: "btn-success",
    Action.ESCALATE: "btn-outline-danger",
    Action.REOPEN: "btn-outline-warning",
}


def _need(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _with_state(orders, now):
    for order in orders:
        order.sla = sla.state_of(order.next_due, order.next_warn, now)
    return orders


@staff_required
def queue(request):
    """Open orders of my queues (all open orders for a supervisor), most urgent first."""
    user = request.user
    _need(user, "workorders.view_workorder")
    orders = visible_work_orders(user).filter(status__in=OPEN_STATUSES)
    mine = Queue.objects.filter(agents=user)
    scope = request.GET.get("scope", "mine" if mine.exists() else "all")
    if scope == "mine":
        orders = orders.filter(queue__in=mine)
    order_type = request.GET.get("type", "")
    if order_type in OrderType.values:
        orders = orders.filter(order_type=order_type)
    now = timezone.now()
    rows = (
        sla.with_sla(orders.select_related("customer", "area", "queue", "assignee")).order_by(
            "assignee", "next_due", "-priority", "created_at"
        )
    )[:QUEUE_LIMIT]
    return render(
        request,
        "workorders/queue.html",
        {
            "nav": "orders",
            "orders": _with_state(list(rows), now),
            "scope": scope,
            "type": order_type,
            "types": OrderType.choices,
            "has_queues": mine.exists(),
        },
    )


def _caller_card(user, find: str):
    """Who is calling, from a number or a customer or site reference.

    Returns (card, error): the customer with its sites, club status and
    account manager, its open orders, and any outage on its feeders or area.
    """
    from voltdesk.core.services import get_utility
    from voltdesk.customers.identifiers import InvalidValue, normalise_phone
    from voltdesk.keyaccounts.portfolio import current_manager

    find = find.strip()
    customers = visible_customers(user)
    customer = customers.filter(ref=find).first()
    phone = ""
    if customer is None:
        site = visible_sites(user).filter(ref=find).first()
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
        return {"phone": phone, "customer": None}, None
    sites = list(visible_sites(user).filter(customer=customer).select_related("area", "feeder"))
    outage = None
    for site in sites:
        outage = services.known_incident_for(site=site)
        if outage:
            break
    membership = getattr(customer, "membership", None)
    member = membership is not None and membership.status == "member"
    return {
        "phone": phone or customer.phone,
        "customer": customer,
        "sites": sites,
        "member": member,
        "manager": current_manager(customer) if member else None,
        "open_orders": services.open_orders_of(customer)[:10],
        "outage": outage,
    }, None


@staff_required
def intake(request):
    """Take a call: find the caller, see its club status, orders and outages, open an order."""
    user = request.user
    _need(user, "workorders.add_workorder")
    find = request.GET.get("find", "")
    card, find_error = _caller_card(user, find) if find else (None, None)
    initial = {}
    if card is not None:
        initial["caller_phone"] = card["phone"]
        if card["customer"] is not None:
            initial["customer_ref"] = card["customer"].ref
            if len(card["sites"]) == 1:
                initial["site_ref"] = card["sites"][0].ref
    form = IntakeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = site = None
        if data["customer_ref"]:
            customer = visible_customers(user).filter(ref=data["customer_ref"]).first()
            if customer is None:
                form.add_error("customer_ref", _("No customer has this number."))
        if data["site_ref"]:
            site = visible_sites(user).filter(ref=data["site_ref"]).first()
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
                    priority=data["priority"],
                    actor=user,
                )
            except services.WorkOrderError as exc:
                field = {"type": "order_type"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, str(exc))
            else:
                messages.success(
                    request,
                    _("Work order %(number)s opened.") % {"number": result.order.number},
                )
                if result.known_incident is not None:
                    messages.warning(
                        request,
                        _("Tell the caller: a known outage since %(since)s is being repaired.")
                        % {
                            "since": timezone.localtime(result.known_incident.opened_at).strftime(
                                "%H:%M"
                            )
                        },
                    )
                return redirect("desk:orders:detail", pk=result.order.pk)
    return render(
        request,
        "workorders/intake.html",
        {"nav": "new_order", "form": form, "find": find, "card": card, "find_error": find_error},
    )


def _do(request, order):
    """One POSTed action on the order page; returns an error message or None."""
    user = request.user
    action = request.POST.get("action", "")
    try:
        if action == "claim":
            if not services.claim(order, user):
                return _("Someone else took this order first.")
        elif action == "comment":
            form = CommentForm(request.POST)
            if not form.is_valid():
                return _("Write something in the comment.")
            services.add_comment(
                order,
                author=user,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
            )
        elif action == "attach":
            upload = request.FILES.get("file")
            if upload is None:
                return _("Choose a file to attach.")
            services.add_attachment(order, uploaded_by=user, uploaded_file=upload)
        elif action == "dispatch":
            crew = Crew.objects.filter(pk=request.POST.get("crew") or 0).first()
            if crew is None:
                return _("Choose a crew.")
            services.dispatch_to_crew(order, crew, actor=user)
        elif action == Action.CANCEL_DUPLICATE:
            number = (request.POST.get("duplicate_of") or "").strip()
            original = (
                visible_work_orders(user).filter(pk=int(number)).first()
                if number.isdigit()
                else None
            )
            if original is None:
                return _("No work order has the number %(number)s.") % {"number": number}
            services.cancel_as_duplicate(
                order, original, actor=user, note=request.POST.get("note", "")
            )
        else:
            services.transition(order, action, actor=user, note=request.POST.get("note", ""))
    except services.WorkOrderError as exc:
        return str(exc)
    return None


@staff_required
def detail(request, pk):
    """One order: its commitments in colour, actions allowed now, history, comments, files."""
    user = request.user
    _need(user, "workorders.view_workorder")
    order = get_object_or_404(
        visible_work_orders(user).select_related(
            "customer", "site", "area", "feeder", "queue", "assignee", "crew", "incident"
        ),
        pk=pk,
    )
    if request.method == "POST":
        _need(user, "workorders.change_workorder")
        error = _do(request, order)
        if error:
            messages.error(request, error)
        return redirect("desk:orders:detail", pk=order.pk)
    now = timezone.now()
    deadlines = []
    for d in order.deadlines.select_related("policy").order_by("pk"):
        d.state = (
            "met" if d.met_at else sla.state_of(d.due_at, d.warn_at, now) if d.due_at else "waiting"
        )
        deadlines.append(d)
    crews = Crew.objects.filter(active=True)
    if order.area_id:
        crews = crews.filter(area=order.area)
    actions = services.allowed_actions(order)
    return render(
        request,
        "workorders/detail.html",
        {
            "nav": "orders",
            "order": order,
            "deadlines": deadlines,
            "sla_state": sla.sla_state(order, now),
            "actions": [
                (a, Action(a).label, ACTION_STYLE.get(a, "btn-outline-primary"))
                for a in actions
                if a not in (Action.CANCEL_DUPLICATE, Action.DISPATCH)
            ],
            "may_dispatch": Action.DISPATCH in actions,
            "may_cancel": Action.CANCEL_DUPLICATE in actions,
            "may_claim": order.assignee_id is None and order.status in OPEN_STATUSES,
            "crews": crews,
            "transitions": order.transitions.select_related("actor").order_by("at", "pk"),
            "comments": visible_work_order_comments(user)
            .filter(work_order=order)
            .select_related("author"),
            "attachments": order.attachments.all(),
            "comment_form": CommentForm(),
        },
    )


@staff_required
def dispatch_board(request):
    """Repair and on-site orders by area, with crews to send, and the open outages."""
    user = request.user
    _need(user, "workorders.view_workorder")
    now = timezone.now()
    orders = _with_state(
        list(
            sla.with_sla(
                visible_work_orders(user)
                .filter(order_type=OrderType.FAULT, status__in=OPEN_STATUSES)
                .select_related("customer", "area", "feeder", "crew", "incident")
            ).order_by("area__name", "next_due", "created_at")[:QUEUE_LIMIT]
        ),
        now,
    )
    crews_by_area: dict[int, list] = {}
    for crew in Crew.objects.filter(active=True).order_by("name"):
        crews_by_area.setdefault(crew.area_id, []).append(crew)
    for order in orders:
        order.crews = crews_by_area.get(order.area_id, [])
    return render(
        request,
        "workorders/dispatch.html",
        {
            "nav": "dispatch",
            "orders": orders,
            "incidents": visible_incidents(user)
            .filter(status="open")
            .select_related("area", "feeder")
            .order_by("opened_at"),
            "may_resolve": user.has_perm("workorders.change_incident"),
            "may_dispatch": user.has_perm("workorders.change_workorder"),
        },
    )


@require_POST
@staff_required
def power_back(request, pk):
    """Power is back: resolve the outage and every report linked to it."""
    user = request.user
    _need(user, "workorders.change_incident")
    incident = get_object_or_404(visible_incidents(user), pk=pk)
    cause = (request.POST.get("cause") or "").strip()[:2000]
    count = services.resolve_incident(incident, actor=user, cause=cause)
    messages.success(
        request,
        _("Outage %(incident)s resolved: %(count)s reports resolved and their callers told.")
        % {"incident": incident.pk, "count": count},
    )
    return redirect("desk:orders:dispatch")
