"""The staffing plan pages under /desk/analytics/ (``desk:analytics:<name>``).

* ``staffing``: the weekly plan (``?week=YYYY-MM-DD`` picks the week holding
  that day; default next week; ``?asa=SECONDS`` adds an average-speed-of-answer
  target): agents per half hour × day as a heat table with totals, the service
  level and average speed of answer reached, crews per region and day, and a
  chart of the next 90 days' agent-hours and crews.
* ``staffing_csv``: the same week as CSV (``?part=crews`` for the crews).

Supervisors only (``analytics.view_analytics``); other desk users get 403,
customers too, anonymous visitors log in. A bad ``week`` or ``asa`` answers
400 naming the field; without any work-order history the page says so (200).
The figures come from ``analytics.staffing``.
"""

import csv
import io
from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import formats
from django.utils.translation import gettext as _

from voltdesk.knowledge.review_views import permission_required

from . import staffing

PERMISSION = "analytics.view_analytics"
CSV_TYPE = "text/csv; charset=utf-8"
MAX_ASA_SECONDS = 3600


def _parse(request):
    """(week start or None, ASA target or None) from the query; StaffingError when bad."""
    asked = (request.GET.get("week") or "").strip()
    week = None
    if asked:
        try:
            week = date.fromisoformat(asked)
        except ValueError:
            raise staffing.StaffingError(
                _("“%(value)s” is not a date; give the week as YYYY-MM-DD.") % {"value": asked},
                "week",
            ) from None
    asa_text = (request.GET.get("asa") or "").strip()
    asa = None
    if asa_text:
        try:
            asa = float(asa_text)
        except ValueError:
            asa = -1.0
        if not 0 < asa <= MAX_ASA_SECONDS:
            raise staffing.StaffingError(
                _("The average speed of answer must be a number of seconds from 1 to %(max)s.")
                % {"max": MAX_ASA_SECONDS},
                "asa",
            )
    return week, asa


def _plan(request):
    week, asa = _parse(request)
    return staffing.plan_week(week, asa_seconds=asa), asa


def _heat(plan) -> list[dict]:
    """48 rows (half hours) of 7 cells, each with a shade from 0 to 1 of the week's peak."""
    peak = max((s.agents for d in plan.days for s in d.slots), default=0) or 1
    rows = []
    for index in range(staffing.SLOTS_PER_DAY):
        cells = []
        for day in plan.days:
            slot = day.slots[index]
            cells.append({"slot": slot, "shade": round(slot.agents / peak, 2)})
        rows.append(
            {"start": plan.days[0].slots[index].start if plan.days else None, "cells": cells}
        )
    return rows


def _percent(share) -> str:
    """A share as a whole percentage in the page's locale, e.g. "80 %"."""
    return f"{formats.number_format(100 * float(share), 0)} %"


def _chart(plan) -> dict:
    return {
        "labels": [o.day.isoformat() for o in plan.outlook],
        "hours": [round(o.scheduled_hours, 1) for o in plan.outlook],
        "orders": [round(o.orders, 1) for o in plan.outlook],
        "crews": [o.crews for o in plan.outlook],
        "peak_crews": [o.peak_crews for o in plan.outlook],
        "names": {
            "hours": _("Scheduled agent-hours"),
            "orders": _("Work orders forecast"),
            "crews": _("Repair crews"),
            "peak_crews": _("Crews on a peak day (upper bound of the forecast)"),
        },
    }


def _preparing(request, span, state):
    """The page while the week's forecasts are fitted in the background; it asks again
    every two seconds and reloads when they are ready."""
    return render(
        request,
        "analytics/staffing.html",
        {"nav": "staffing", "preparing": state, "span": span, "week": request.GET.get("week", "")},
    )


@permission_required(PERMISSION)
def staffing_plan(request):
    """The week's plan; a bad week or ASA target answers 400 with the reason.

    The forecasts behind it come from the cache; when they are not there yet, a
    background job fits them and the page shows its progress until they are.
    """
    try:
        week, asa = _parse(request)
        span = staffing.plan_span(week)
        state = staffing.request_forecasts(span)
        if not state.ready:
            return _preparing(request, span, state)
        if request.headers.get("HX-Request"):
            # The progress panel asked: reload the whole page (its chart script too).
            response = HttpResponse(status=200)
            response["HX-Refresh"] = "true"
            return response
        plan = staffing.plan_week(span.start, asa_seconds=asa)
    except staffing.NoHistory as exc:
        return render(
            request,
            "analytics/staffing.html",
            {"nav": "staffing", "notice": exc.message, "week": request.GET.get("week", "")},
        )
    except staffing.StaffingError as exc:
        return render(
            request,
            "analytics/staffing.html",
            {"nav": "staffing", "error": exc, "week": request.GET.get("week", "")},
            status=400,
        )
    return render(
        request,
        "analytics/staffing.html",
        {
            "nav": "staffing",
            "plan": plan,
            "asa_target": asa,
            "week_end": plan.start + timedelta(days=6),
            "previous_week": plan.start - timedelta(days=7),
            "next_week": plan.start + timedelta(days=7),
            "heat": _heat(plan),
            "crews_by_region": plan.crews_by_region(),
            "chart": _chart(plan),
            "erlang_a": plan.assumptions.patience_seconds is not None,
            "percent": {
                "service_level": 100 * plan.service_level,
                "target": _percent(plan.assumptions.service_level),
                "abandoned": 100 * plan.abandon_share,
                "shrinkage": _percent(plan.assumptions.shrinkage),
            },
        },
    )


def write_csv(plan, part: str) -> bytes:
    """The week's half hours (or crews) as UTF-8 CSV with a byte-order mark for Excel.

    Without a plan (no history yet) only the header line.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if part == "crews":
        writer.writerow(staffing.CREW_CSV_HEADER)
        writer.writerows(staffing.crew_rows(plan) if plan else [])
    else:
        writer.writerow(staffing.CSV_HEADER)
        writer.writerows(staffing.plan_rows(plan) if plan else [])
    return buffer.getvalue().encode("utf-8-sig")


@permission_required(PERMISSION)
def staffing_csv(request):
    """The week's plan as CSV; ``?part=crews`` for crews per region and day."""
    part = request.GET.get("part", "agents")
    try:
        if part not in ("agents", "crews"):
            raise staffing.StaffingError(_("Choose agents or crews."), "part")
        plan, _asa = _plan(request)
    except staffing.NoHistory:
        plan = None
    except staffing.StaffingError as exc:
        return HttpResponse(
            f"{exc.field}: {exc.message}", status=400, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(write_csv(plan, part), content_type=CSV_TYPE)
    name = f"staffing-{part}-{plan.start.isoformat() if plan else 'empty'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("staffing/", staffing_plan, name="staffing"),
    path("staffing/plan.csv", staffing_csv, name="staffing_csv"),
]
