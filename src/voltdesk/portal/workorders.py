"""Work orders in the customer's portal: open a fault report, request or complaint; follow it.

A customer sees the orders of its own customer (all its sites, every channel),
never another's (404), and never the desk's staff-only comments.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from voltdesk.core.access import visible_work_order_comments, visible_work_orders
from voltdesk.customers.models import Site
from voltdesk.workorders import services
from voltdesk.workorders.choices import Channel
from voltdesk.workorders.forms import CommentForm, PortalOrderForm

from .views import customer_required


@customer_required
def orders(request, customer):
    sites = Site.objects.filter(customer=customer).order_by("ref")
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
                caller_name=request.user.get_full_name() or request.user.get_username(),
                actor=request.user,
            )
        except services.WorkOrderError as exc:
            form.add_error(None, str(exc))
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
    listed = visible_work_orders(request.user).select_related("site").order_by("-created_at")[:100]
    return render(
        request,
        "portal/workorders.html",
        {"nav": "orders", "customer": customer, "orders": listed, "form": form},
    )


@customer_required
def order(request, customer, pk):
    found = get_object_or_404(visible_work_orders(request.user).select_related("site"), pk=pk)
    form = CommentForm(request.POST or None)
    form.fields.pop("internal")
    if request.method == "POST" and form.is_valid():
        try:
            services.add_comment(found, author=request.user, body=form.cleaned_data["body"])
        except services.WorkOrderError as exc:
            form.add_error("body", str(exc))
        else:
            return redirect("portal:order", pk=found.pk)
    return render(
        request,
        "portal/workorder.html",
        {
            "nav": "orders",
            "customer": customer,
            "order": found,
            "comments": visible_work_order_comments(request.user)
            .filter(work_order=found)
            .select_related("author"),
            "history": found.transitions.exclude(action__in=["assign", "escalate"]).order_by(
                "at", "pk"
            ),
            "form": form,
        },
    )
