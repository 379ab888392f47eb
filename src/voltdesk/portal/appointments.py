"""Hall appointments in the portal: book a visit, see, cancel and move my bookings.

Booking is two steps on one page: the hall and the business, then a day and a
free slot (computed in the utility's time zone). A customer sees its own
bookings only (``appointments.access.visible_bookings``): another customer's
reference answers 404 on every page and action. Bad days and slots answer
400 with the reason next to the field.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.appointments import calendar, services
from voltdesk.appointments.access import visible_bookings
from voltdesk.appointments.choices import BookingStatus
from voltdesk.appointments.forms import HallKindForm, SlotForm, error_to_form
from voltdesk.appointments.reminders import notice_for
from voltdesk.core.services import get_utility
from voltdesk.knowledge.notices import public_notice_path

from .views import customer_required

DAYS_SHOWN = 21


def _zone() -> ZoneInfo:
    return ZoneInfo(get_utility().time_zone)


def _booking(request, reference):
    return get_object_or_404(
        visible_bookings(request.user).select_related("hall", "kind", "rescheduled_to"),
        reference=reference,
    )


def notice_link(booking) -> str | None:
    """The public PDF link of the booking's notice of documents, in its language."""
    article = notice_for(booking.kind, booking.customer)
    if article is None or article.published_version is None:
        return None
    from voltdesk.knowledge.notices import notice_text

    language = notice_text(article.published_version, booking.language or None).language
    return public_notice_path(article.published_version, language)


def _picker(hall, day, zone, now):
    """The open days from today on (with free places) and the slots of ``day``."""
    today = calendar.local_now(zone, now).date()
    last = today + timedelta(days=min(hall.horizon_days, DAYS_SHOWN))
    slots = calendar.hall_slots(hall, today, last, now=now)
    free_by_day: dict = {}
    for slot in slots:
        d = slot.starts_at.astimezone(zone).date()
        free_by_day[d] = free_by_day.get(d, 0) + slot.free
    days = [(d, free) for d, free in sorted(free_by_day.items())]
    if day is None:
        day = next((d for d, free in days if free), None)
    day_slots = [s for s in slots if s.starts_at.astimezone(zone).date() == day]
    return days, day, day_slots


@customer_required
def appointments(request, customer):
    """My bookings: the coming ones first, then the rest."""
    bookings = visible_bookings(request.user).select_related("hall", "kind")
    now = timezone.now()
    upcoming = bookings.filter(status=BookingStatus.BOOKED, starts_at__gt=now).order_by("starts_at")
    past = bookings.exclude(pk__in=upcoming.values("pk")).order_by("-starts_at")[:50]
    return render(
        request,
        "portal/appointments.html",
        {"nav": "appointments", "customer": customer, "upcoming": upcoming, "past": past},
    )


def _slot_page(request, customer, *, template, booking=None):
    """Shared by booking and moving a booking: the picker, then the slot form."""
    zone = _zone()
    now = timezone.now()
    data = request.POST if request.method == "POST" else request.GET
    if booking is not None:
        data = {"hall": booking.hall.code, "kind": booking.kind.code, "day": data.get("day", "")}
    search = HallKindForm(data if data.get("hall") else None)
    slot_form = SlotForm(
        request.POST if request.method == "POST" else None,
        zone=zone,
        initial={"remind_by": booking.remind_by if booking else None},
    )
    context = {
        "nav": "appointments",
        "customer": customer,
        "search": search,
        "slot_form": slot_form,
        "booking": booking,
        "changeable": booking is None
        or (booking.status == BookingStatus.BOOKED and booking.starts_at > now),
    }
    status = 200
    if search.is_bound and not search.is_valid():
        return render(request, template, context, status=400)
    if search.is_bound:
        hall, kind = search.hall_obj(), search.kind_obj()
        if request.method == "POST" and slot_form.is_valid():
            at = slot_form.cleaned_data["slot"]
            try:
                if booking is None:
                    made = services.book(
                        request.user,
                        customer=customer,
                        hall=hall,
                        kind=kind,
                        starts_at=at,
                        remind_by=slot_form.cleaned_data["remind_by"],
                        note=slot_form.cleaned_data["note"],
                        language=request.LANGUAGE_CODE,
                    )
                    messages.success(
                        request,
                        _("Your visit is booked. Your reference is %(ref)s.")
                        % {"ref": made.reference},
                    )
                else:
                    made = services.reschedule(request.user, booking, starts_at=at)
                    messages.success(
                        request,
                        _("Your visit is moved. Your new reference is %(ref)s.")
                        % {"ref": made.reference},
                    )
            except services.AppointmentError as exc:
                error_to_form(slot_form, exc)
            else:
                return redirect("portal:appointment", reference=made.reference)
        if request.method == "POST":
            status = 400
        day = search.cleaned_data.get("day")
        if day is None and request.method == "POST" and slot_form.is_valid():
            day = slot_form.cleaned_data["slot"].astimezone(zone).date()
        try:
            services.check_kind(hall, kind)
        except services.AppointmentError as exc:
            search.add_error("kind", exc.message)
            return render(request, template, context, status=400)
        days, day, day_slots = _picker(hall, day, zone, now)
        context.update({"hall": hall, "kind": kind, "days": days, "day": day, "slots": day_slots})
    return render(request, template, context, status=status)


@customer_required
def appointment_new(request, customer):
    """Book a visit: the hall and business, then a day and a free time."""
    return _slot_page(request, customer, template="portal/appointment_new.html")


@customer_required
def appointment(request, customer, reference):
    """One booking: when and where, its status, the notice of documents, cancel or move."""
    booking = _booking(request, reference)
    changeable = booking.status == BookingStatus.BOOKED and booking.starts_at > timezone.now()
    return render(
        request,
        "portal/appointment.html",
        {
            "nav": "appointments",
            "customer": customer,
            "booking": booking,
            "changeable": changeable,
            "notice_url": notice_link(booking),
        },
    )


@customer_required
def appointment_cancel(request, customer, reference):
    booking = _booking(request, reference)  # another customer's: 404 whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.cancel(request.user, booking)
    except services.AppointmentError as exc:
        messages.error(request, exc.message)
        return render(
            request,
            "portal/appointment.html",
            {
                "nav": "appointments",
                "customer": customer,
                "booking": booking,
                "changeable": False,
                "notice_url": notice_link(booking),
            },
            status=409,
        )
    messages.success(request, _("Your visit %(ref)s is cancelled.") % {"ref": booking.reference})
    return redirect("portal:appointment", reference=booking.reference)


@customer_required
def appointment_reschedule(request, customer, reference):
    """Move a booking to another time at the same hall."""
    booking = _booking(request, reference)
    return _slot_page(
        request, customer, template="portal/appointment_reschedule.html", booking=booking
    )


urlpatterns = [
    path("appointments/", appointments, name="appointments"),
    path("appointments/new/", appointment_new, name="appointment_new"),
    path("appointments/<str:reference>/", appointment, name="appointment"),
    path("appointments/<str:reference>/cancel/", appointment_cancel, name="appointment_cancel"),
    path(
        "appointments/<str:reference>/move/",
        appointment_reschedule,
        name="appointment_reschedule",
    ),
]
