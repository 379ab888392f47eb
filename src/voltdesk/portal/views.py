"""Customer pages (the business lounge and residential self-service).

Everything is read through ``core.access``: a customer user sees its own
customer only, and a site's figures only for the periods it held the site.
"""

import datetime as dt
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from voltdesk.core.access import customer_of, visible_contracts, visible_sites
from voltdesk.core.roles import is_staff_user

from . import consumption

CHART_MONTHS = 24
TABLE_MONTHS = 12


def customer_required(view):
    """Anonymous users go to log-in, staff to the desk; others need a customer link."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if is_staff_user(request.user):
            return redirect("desk:home")
        customer = customer_of(request.user)
        if customer is None:
            raise PermissionDenied
        return view(request, customer, *args, **kwargs)

    return wrapped


def _sites(user):
    return visible_sites(user).select_related("area", "feeder").order_by("ref")


def _contracts(user):
    return visible_contracts(user).select_related("site", "supplier", "tariff")


@customer_required
def home(request, customer):
    """Overview: consumption over 24 months, the sites and the contracts."""
    user = request.user
    contracts = list(_contracts(user).order_by("site__ref", "-start"))
    points = consumption.monthly_series(user, contracts, consumption.month_starts(CHART_MONTHS))
    return render(
        request,
        "portal/home.html",
        {
            "nav": "home",
            "customer": customer,
            "sites": _sites(user),
            "contracts": contracts,
            "points": points,
            "total": consumption.total(points),
            "chart": consumption.chart_payload(points, "YEAR_MONTH_FORMAT"),
        },
    )


@customer_required
def sites(request, customer):
    return render(
        request,
        "portal/sites.html",
        {"nav": "sites", "customer": customer, "sites": _sites(request.user)},
    )


def _month_param(value: str | None) -> dt.date | None:
    """``?month=YYYY-MM`` as the month's first day; anything else is ignored."""
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return None


@customer_required
def site(request, customer, ref):
    """One site: monthly figures, and daily ones for a chosen month where interval data exists."""
    user = request.user
    site = get_object_or_404(_sites(user), ref=ref)
    contracts = list(_contracts(user).filter(site=site).order_by("-start"))
    points = consumption.monthly_series(user, contracts, consumption.month_starts(CHART_MONTHS))
    latest_daily = consumption.latest_daily_month(user, contracts)
    context = {
        "nav": "sites",
        "customer": customer,
        "site": site,
        "contracts": contracts,
        "points": points,
        "total": consumption.total(points),
        "chart": consumption.chart_payload(points, "YEAR_MONTH_FORMAT"),
        "has_daily": latest_daily is not None,
        "daily_month": None,
    }
    if latest_daily is not None:
        month = _month_param(request.GET.get("month")) or latest_daily
        daily_points = consumption.daily_series(user, contracts, month)
        context.update(
            daily_month=month,
            daily_points=daily_points,
            daily_total=consumption.total(daily_points),
            daily_chart=consumption.chart_payload(daily_points, "SHORT_DATE_FORMAT"),
            previous_month=(month - dt.timedelta(days=1)).replace(day=1),
            next_month=(month + dt.timedelta(days=32)).replace(day=1),
        )
    return render(request, "portal/site.html", context)


@customer_required
def consumption_by_site(request, customer):
    """kWh per site and month over the last 12 months: the lounge's cross-section."""
    user = request.user
    contracts = list(_contracts(user))
    months = consumption.month_starts(TABLE_MONTHS)
    by_site = consumption.monthly_by_site(user, contracts, months)
    sites = {s.pk: s for s in _sites(user).filter(pk__in=by_site)}
    rows = sorted(
        (
            {"site": sites[site_id], "points": points, "total": consumption.total(points)}
            for site_id, points in by_site.items()
            if site_id in sites
        ),
        key=lambda row: row["site"].ref,
    )
    totals = consumption.monthly_series(user, contracts, months)
    return render(
        request,
        "portal/consumption.html",
        {
            "nav": "consumption",
            "customer": customer,
            "months": months,
            "rows": rows,
            "totals": totals,
            "grand_total": consumption.total(totals),
        },
    )
