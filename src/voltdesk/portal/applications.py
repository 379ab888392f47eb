"""Online applications in the portal: apply for a new connection or a change of use.

An application is sent with its documents and becomes a business-handling
work order; the customer follows its status, due date and progress here (and
exchanges messages on the order's page). Rows come from
``appointments.access.visible_applications``: another customer's application
answers 404. Refused documents are named with the reason, and nothing is kept.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from voltdesk.appointments.access import visible_applications
from voltdesk.appointments.applications import (
    ApplicationError,
    commitment_of,
    submit_application,
)
from voltdesk.appointments.forms import ApplicationForm, error_to_form
from voltdesk.core.access import visible_sites, visible_work_order_attachments

from .views import customer_required
from .workorders import CUSTOMER_STEPS


def _sites(user, customer):
    # Only the sites held now: a change of use on a former site is the new holder's.
    return visible_sites(user).filter(customer=customer).order_by("ref")


@customer_required
def applications(request, customer):
    """My applications, newest first, with their status and due date."""
    rows = list(visible_applications(request.user).select_related("work_order", "site")[:100])
    for row in rows:
        row.commitment = commitment_of(row)
    return render(
        request,
        "portal/applications.html",
        {"nav": "applications", "customer": customer, "applications": rows},
    )


@customer_required
def application_new(request, customer):
    """Apply with documents; a refused file or field is named, nothing is kept."""
    sites = _sites(request.user, customer)
    form = ApplicationForm(request.POST or None, request.FILES or None, sites=sites)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            site = sites.filter(ref=data["site_ref"]).first() if data["site_ref"] else None
            try:
                application = submit_application(
                    request.user,
                    customer=customer,
                    kind=data["kind"],
                    supply=data["supply"],
                    change=data["change"],
                    site=site,
                    address=data["address"],
                    requested_kva=data["requested_kva"],
                    description=data["description"],
                    files=data["documents"],
                )
            except ApplicationError as exc:
                error_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("We received your application %(number)s.")
                    % {"number": application.work_order.number},
                )
                return redirect("portal:application", pk=application.pk)
    return render(
        request,
        "portal/application_new.html",
        {"nav": "applications", "customer": customer, "form": form},
        status=status,
    )


@customer_required
def application(request, customer, pk):
    """One application: status, the date we committed to, progress and documents."""
    found = get_object_or_404(
        visible_applications(request.user).select_related("work_order", "site"), pk=pk
    )
    order = found.work_order
    return render(
        request,
        "portal/application.html",
        {
            "nav": "applications",
            "customer": customer,
            "application": found,
            "order": order,
            "commitment": commitment_of(found),
            "history": order.transitions.filter(action__in=CUSTOMER_STEPS).order_by("at", "pk"),
            "documents": visible_work_order_attachments(request.user)
            .filter(work_order=order)
            .order_by("pk"),
        },
    )


urlpatterns = [
    path("applications/", applications, name="applications"),
    path("applications/new/", application_new, name="application_new"),
    path("applications/<int:pk>/", application, name="application"),
]
