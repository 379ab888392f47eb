"""Service halls at the desk: the halls, one hall's day, and marking visits.

Desk staff with ``workorders.view_workorder`` see the halls and their days;
marking a visit attended or no-show also takes ``workorders.change_workorder``
(the hall agents who work orders). Rows come from ``access.visible_bookings``.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from voltdesk.core.services import utility_zone
from voltdesk.knowledge.review_views import permission_required

from . import calendar, services
from .access import STAFF_PERMISSION, visible_bookings
from .choices import BookingStatus
from .models import ServiceHall

MARK_PERMISSION = "workorders.change_workorder"


def _today():
    return calendar.local_now(utility_zone()).date()


@permission_required(STAFF_PERMISSION)
def halls(request):
    """Every hall with today's bookings; ``?ref=`` opens the day of a booking by its reference."""
    today = _today()
    reference = (request.GET.get("ref") or "").strip().upper()
    not_found = ""
    if reference:
        found = visible_bookings(request.user).filter(reference=reference).first()
        if found is not None:
            day = found.starts_at.astimezone(utility_zone()).date()
            url = redirect("desk:appointments:hall_day", code=found.hall.code).url
            return redirect(f"{url}?day={day.isoformat()}#booking-{found.reference}")
        not_found = _("No booking has the reference %(ref)s.") % {"ref": reference}
    start, end = calendar.day_bounds(today, utility_zone())
    rows = ServiceHall.objects.annotate(
        today=Count(
            "bookings",
            filter=Q(
                bookings__starts_at__gte=start,
                bookings__starts_at__lt=end,
                bookings__status__in=[
                    BookingStatus.BOOKED,
                    BookingStatus.ATTENDED,
                    BookingStatus.NO_SHOW,
                ],
            ),
        )
    ).order_by("name")
    return render(
        request,
        "appointments/halls.html",
        {
            "nav": "halls",
            "halls": rows,
            "today": today,
            "reference": reference,
            "not_found": not_found,
        },
        status=404 if not_found else 200,
    )


@permission_required(STAFF_PERMISSION)
def hall_day(request, code):
    """One hall's day: the bookings by time, with buttons to mark each visit."""
    hall = get_object_or_404(ServiceHall, code=code)
    raw = request.GET.get("day") or ""
    try:
        day = date.fromisoformat(raw) if raw else _today()
    except ValueError:
        return render(
            request,
            "appointments/hall_day.html",
            {
                "nav": "halls",
                "hall": hall,
                "error": _("%(value)s is not a day: use YYYY-MM-DD.") % {"value": raw},
            },
            status=400,
        )
    bookings = visible_bookings(request.user, services.hall_day(hall, day))
    week = calendar.hall_week(hall, day, day)
    return render(
        request,
        "appointments/hall_day.html",
        {
            "nav": "halls",
            "hall": hall,
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "spans": week.spans(day),
            "bookings": bookings,
            "can_mark": request.user.has_perm(MARK_PERMISSION),
        },
    )


@permission_required(STAFF_PERMISSION)
def mark(request, reference):
    """Mark a visit attended or no-show (POST), then back to the hall's day."""
    booking = get_object_or_404(visible_bookings(request.user), reference=reference)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm(MARK_PERMISSION):
        raise PermissionDenied
    try:
        services.mark_visit(request.user, booking, request.POST.get("outcome", ""))
    except services.AppointmentError as exc:
        messages.error(request, f"{booking.reference}: {exc.message}")
    else:
        messages.success(request, _("%(ref)s marked.") % {"ref": booking.reference})
    day = booking.starts_at.astimezone(utility_zone())
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(
        target
        or f"{redirect('desk:appointments:hall_day', code=booking.hall.code).url}"
        f"?day={day.date().isoformat()}"
    )


urlpatterns = [
    path("", halls, name="halls"),
    path("bookings/<str:reference>/mark/", mark, name="mark"),
    path("<slug:code>/", hall_day, name="hall_day"),
]
