"""Customer pages (the business lounge and residential self-service).

Everything is read through ``core.access``: a customer user sees its own
customer only, and a site's figures only for the periods it held the site.
"""

import datetime as dt
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from voltdesk.billing import breakdown
from voltdesk.core.access import customer_of, visible_contracts, visible_sites
from voltdesk.core.roles import is_staff_user
from voltdesk.core.services import utility_held

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


def utility_read_once(view):
    """The utility row read once for the whole request, not once per figure.

    Consumption pages ask for the time zone and holiday calendar a dozen times;
    one request cannot meet two versions of the utility anyway.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with utility_held():
            return view(request, *args, **kwargs)

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


# Days and months a reading may have: outside them the date arithmetic of the page
# (the day before, local midnight in UTC) would overflow.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _date_param(request, name: str, fmt: str, default: dt.date, problems: list) -> dt.date | None:
    """``?name=`` parsed by ``fmt``, or None if absent; if bad, ``default`` and a message."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.strptime(value, fmt).date()
    except ValueError:
        parsed = None
    if parsed is not None and FIRST_DAY <= parsed <= LAST_DAY:
        return parsed
    names = {"name": name, "value": value, "example": default.strftime(fmt)}
    if parsed is not None:
        message = _(
            "The date in the address (%(name)s=%(value)s) is out of range: choose one between "
            "%(first)s and %(last)s. Showing %(example)s instead."
        )
        names.update(first=FIRST_DAY.strftime(fmt), last=LAST_DAY.strftime(fmt))
    elif fmt == "%Y-%m":
        message = _(
            "The month in the address (%(name)s=%(value)s) is not a month: write it as "
            "YYYY-MM, for example %(example)s. Showing %(example)s instead."
        )
    else:
        message = _(
            "The day in the address (%(name)s=%(value)s) is not a date: write it as "
            "YYYY-MM-DD, for example %(example)s. Showing %(example)s instead."
        )
    problems.append(message % names)
    return default


def _query(**params) -> str:
    """A query string of the page's choices (only those set)."""
    return "?" + urlencode({k: v for k, v in params.items() if v})


@customer_required
@utility_read_once
def site(request, customer, ref):
    """One site: monthly figures, daily ones for a month and intervals for a day, and time of use.

    ``?month=YYYY-MM`` picks the month of daily figures, ``?day=YYYY-MM-DD`` the day
    of interval readings (default: the newest day with interval data).
    """
    user = request.user
    site = get_object_or_404(_sites(user), ref=ref)
    contracts = list(_contracts(user).filter(site=site).order_by("-start"))
    months = consumption.month_starts(CHART_MONTHS)
    points = consumption.monthly_series(user, contracts, months)
    latest_day = consumption.latest_daily_day(user, contracts)
    problems: list[str] = []
    tou = breakdown.tou_breakdown(contracts, months)
    context = {
        "nav": "sites",
        "customer": customer,
        "site": site,
        "contracts": contracts,
        "points": points,
        "total": consumption.total(points),
        "chart": consumption.chart_payload(points, "YEAR_MONTH_FORMAT"),
        "has_daily": latest_day is not None,
        "daily_month": None,
        "day": None,
        "problems": problems,
        "tou": tou,
        "tou_rows": consumption.tou_rows(tou),
    }
    default_day = latest_day or consumption.today()
    asked_month = _date_param(request, "month", "%Y-%m", default_day.replace(day=1), problems)
    asked_day = _date_param(request, "day", "%Y-%m-%d", default_day, problems)
    month, day = asked_month or default_day.replace(day=1), asked_day or default_day
    # Links keep the other choice the customer made (as parsed, never as typed).
    month_param = f"{month:%Y-%m}" if asked_month else ""
    day_param = f"{day:%Y-%m-%d}" if asked_day else ""
    if latest_day is not None:
        daily_points = consumption.daily_series(user, contracts, month)
        previous_month = (month - dt.timedelta(days=1)).replace(day=1)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        context.update(
            daily_month=month,
            daily_points=daily_points,
            daily_total=consumption.total(daily_points),
            daily_chart=consumption.chart_payload(daily_points, "SHORT_DATE_FORMAT"),
            previous_month_query=_query(month=f"{previous_month:%Y-%m}", day=day_param),
            next_month_query=_query(month=f"{next_month:%Y-%m}", day=day_param),
        )
    # A day asked for by name is shown even without a whole day of data: a site held
    # from mid-day has its held hours only.
    if latest_day is not None or asked_day:
        intervals = consumption.day_intervals(
            user, site, day, breakdown.tou_slots_of_day(contracts, day)
        )
        context.update(
            day=day,
            intervals=intervals,
            day_summary=consumption.day_summary(intervals),
            interval_chart=consumption.interval_chart(intervals),
            previous_day_query=_query(
                month=month_param, day=f"{max(day - dt.timedelta(days=1), FIRST_DAY):%Y-%m-%d}"
            ),
            next_day_query=_query(
                month=month_param, day=f"{min(day + dt.timedelta(days=1), LAST_DAY):%Y-%m-%d}"
            ),
            month_param=month_param,
        )
    return render(request, "portal/site.html", context)


@customer_required
@utility_read_once
def consumption_by_site(request, customer):
    """kWh per site and month over the last 12 months: the lounge's cross-section."""
    user = request.user
    contracts = list(_contracts(user))
    months = consumption.month_starts(TABLE_MONTHS)
    by_site = consumption.monthly_by_site(user, contracts, months)
    sites = {s.pk: s for s in _sites(user).filter(pk__in=by_site)}
    write = consumption.whole_kwh_format()  # hundreds of sites x 12 months of cells
    rows = sorted(
        (
            {
                "site": sites[site_id],
                "cells": [write(p.kwh) for p in points],
                "total": write(consumption.total(points)),
            }
            for site_id, points in by_site.items()
            if site_id in sites
        ),
        key=lambda row: row["site"].ref,
    )
    totals = consumption.series_total(by_site, months)
    return render(
        request,
        "portal/consumption.html",
        {
            "nav": "consumption",
            "customer": customer,
            "months": months,
            "rows": rows,
            "totals": [write(p.kwh) for p in totals],
            "grand_total": write(consumption.total(totals)),
        },
    )
