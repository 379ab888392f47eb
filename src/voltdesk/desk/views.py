"""Staff pages: who may open them, what they read; the rules live in services."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, render

from voltdesk.core.access import (
    visible_contracts,
    visible_customers,
    visible_sites,
    visible_work_orders,
)
from voltdesk.core.models import Utility
from voltdesk.core.roles import is_staff_user
from voltdesk.portal import consumption

from .forms import CustomerSearchForm

SEARCH_LIMIT = 50
CHART_MONTHS = 24
RECENT_ORDERS = 10


def staff_required(view):
    """Anonymous users go to log-in; signed-in users without a staff role get 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_staff_user(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@staff_required
def home(request):
    """The agent's start page: one search box for customer, name, phone or site."""
    form = CustomerSearchForm(request.GET or None, country=_utility_country())
    customers, more = [], False
    if form.is_valid():
        found = list(form.filter(visible_customers(request.user))[: SEARCH_LIMIT + 1])
        customers, more = found[:SEARCH_LIMIT], len(found) > SEARCH_LIMIT
    return render(
        request,
        "desk/home.html",
        {
            "nav": "home",
            "form": form,
            "query": request.GET.get("q", ""),
            "searched": form.is_bound,
            "customers": customers,
            "more": more,
        },
    )


def _utility_country() -> str | None:
    """Phone numbers typed without a country code are read as the utility's."""
    utility = Utility.objects.order_by("pk").first()
    return utility.country if utility else None


@staff_required
def customer(request, ref):
    """Customer 360: identity, contacts, sites, contracts and monthly consumption."""
    user = request.user
    customer = get_object_or_404(visible_customers(user), ref=ref)
    sites = (
        visible_sites(user)
        .filter(Q(customer=customer) | Q(contracts__customer=customer))
        .distinct()
        .select_related("area", "feeder", "customer")
        .order_by("ref")
    )
    contracts = list(
        visible_contracts(user)
        .filter(customer=customer)
        .select_related("site", "supplier", "tariff")
        .order_by("site__ref", "-start")
    )
    contacts = customer.contacts.all() if user.has_perm("customers.view_contact") else None
    months = consumption.month_starts(CHART_MONTHS)
    points = consumption.monthly_series(user, contracts, months)
    return render(
        request,
        "desk/customer.html",
        {
            "customer": customer,
            "sites": sites,
            "contracts": contracts,
            "contacts": contacts,
            "points": points,
            "total": consumption.total(points),
            "chart": consumption.chart_payload(points, "YEAR_MONTH_FORMAT"),
            # Open orders first, then the latest closed ones: what the caller asks about.
            "work_orders": list(
                visible_work_orders(user)
                .filter(customer=customer)
                .select_related("site")
                .order_by(F("closed_at").asc(nulls_first=True), "-created_at")[:RECENT_ORDERS]
            )
            if user.has_perm("workorders.view_workorder")
            else None,
        },
    )
