"""Work orders in the customer's portal: open a fault report, request or complaint; follow it.

A customer sees the orders of its own customer (all its sites, every channel),
never another's (404), and never the desk's staff-only comments or the
desk's internal steps (assignment, escalation, notes).
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from voltdesk.core.access import (
    customer_of,
    visible_incidents,
    visible_sites,
    visible_work_order_comments,
    visible_work_orders,
)
from voltdesk.workorders import services
from voltdesk.workorders.choices import Action, Channel, IncidentStatus
from voltdesk.workorders.forms import CommentForm, PortalOrderForm, error_to_form

from .views import customer_required

LISTED = 100
# Steps a customer follows; assignment and escalation are the desk's own business.
CUSTOMER_STEPS = [a for a in Action.values if a not in (Action.ASSIGN, Action.ESCALATE)]


@customer_required
def orders(request, customer):
    """My orders, newest first, any outage on my feeders, and a form to open one."""
    user = request.user
    # Only the sites held now: a fault report on a former site is the new holder's.
    sites = visible_sites(user).filter(customer=customer).order_by("ref")
    form = PortalOrderForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        site = sites.filter(ref=data["site_ref"]).first() if data["site_ref"] else None
        try:
            result = services.open_work_order(
                channel=Channel.WEB,
                order_type=data["order_type"],
                description=data["description"],
                customer=customer,
                site=site,
                caller_name=user.get_full_name() or user.get_username(),
                actor=user,
            )
        except services.WorkOrderError as exc:
            error_to_form(form, exc)
        else:
            messages.success(
                request,
                _("We received your request %(number)s. You can follow it here.")
                % {"number": result.order.number},
            )
            if result.known_incident is not None:
                messages.info(
                    request, _("We already know of an outage in your area and are repairing it.")
                )
            return redirect("portal:order", pk=result.order.pk)
    listed = visible_work_orders(user).select_related("site").order_by("-created_at", "-pk")
    return render(
        request,
        "portal/workorders.html",
        {
            "nav": "orders",
            "customer": customer,
            "orders": listed[:LISTED],
            "form": form,
            "outages": visible_incidents(user)
            .filter(status=IncidentStatus.OPEN)
            .select_related("feeder", "area")
            .order_by("opened_at"),
        },
    )


@customer_required
def order(request, customer, pk):
    """One of my orders: its status and progress, messages with the desk, and a reply."""
    user = request.user
    found = get_object_or_404(visible_work_orders(user).select_related("site"), pk=pk)
    form = CommentForm(request.POST or None)
    form.fields.pop("internal")
    if request.method == "POST" and form.is_valid():
        try:
            services.add_comment(found, author=user, body=form.cleaned_data["body"])
        except services.WorkOrderError as exc:
            error_to_form(form, exc)
        else:
            return redirect("portal:order", pk=found.pk)
    comments = list(
        visible_work_order_comments(user)
        .filter(work_order=found)
        .select_related("author__customer_link")
        .order_by("at", "pk")
    )
    for comment in comments:
        # Written by someone of this customer, or by the utility's staff (or system).
        author = comment.author
        comment.from_customer = author is not None and customer_of(author) == customer
    return render(
        request,
        "portal/workorder.html",
        {
            "nav": "orders",
            "customer": customer,
            "order": found,
            "comments": comments,
            "history": found.transitions.filter(action__in=CUSTOMER_STEPS).order_by("at", "pk"),
            "form": form,
        },
    )
