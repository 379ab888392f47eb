"""Desk pages of excess-demand events, included by ``desk.urls`` at /desk/demand/.

* ``events``: open and past events; demand managers declare a new one there;
* ``event``: one event: its feeders (critical loads marked), the rotating
  schedule, the warnings fan-out's progress, the call list by account manager
  (who has not been reached yet), and after the event its report;
* ``cancel`` (POST): the demand manager cancels an event that has not ended;
* ``calls``: the account manager's call list across open events, where each
  call is recorded (``record_call``, POST).

Pages call ``services``, ``fanout`` and ``report``; permissions: the demand
manager declares (``demand.declare_demandevent``), every desk role that works
with events reads them (``demand.view_demandevent``), account managers record
calls (``demand.change_calllistentry``).
"""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import utility_zone
from voltdesk.keyaccounts.models import AccountManager
from voltdesk.knowledge.review_views import permission_required

from . import fanout, openadr, services
from .choices import CallOutcome, EventKind, EventStatus, Severity
from .models import CallListEntry, DemandEvent, SheddingWindow
from .report import event_report

READ = "demand.view_demandevent"
DECLARE = "demand.declare_demandevent"
CALL = "demand.change_calllistentry"


class EventForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=EventKind.choices)
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    rotation_minutes = forms.IntegerField(
        label=gettext_lazy("Shedding block (minutes)"), initial=120, min_value=15, max_value=1440
    )
    regions = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Regions"), queryset=Region.objects.all(), required=False
    )
    areas = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Areas"), queryset=Area.objects.all(), required=False
    )
    feeders = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Feeders"),
        queryset=Feeder.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if select else "form-control")


def _aware(value: datetime) -> datetime:
    # The form's times are the utility's local times.
    if timezone.is_naive(value):
        return timezone.make_aware(value, utility_zone())
    return value


def _declare(form, actor):
    """The declared event, or None with the refusal on the form."""
    data = form.cleaned_data
    try:
        return services.declare_event(
            services.EventRequest(
                title=data["title"],
                kind=data["kind"],
                severity=data["severity"],
                starts_at=_aware(data["starts_at"]),
                ends_at=_aware(data["ends_at"]),
                rotation_minutes=data["rotation_minutes"],
                regions=tuple(data["regions"]),
                areas=tuple(data["areas"]),
                feeders=tuple(data["feeders"]),
                reason=data["reason"],
            ),
            actor=actor,
        )
    except services.DemandError as exc:
        form.add_error(None, str(exc))
        return None


@permission_required(READ)
def events(request):
    can_declare = request.user.has_perm(DECLARE)
    if request.method == "POST" and not can_declare:
        raise PermissionDenied
    form = EventForm(request.POST or None) if can_declare else None
    status = 200
    if request.method == "POST":
        event = _declare(form, request.user) if form.is_valid() else None
        if event is not None:
            messages.success(request, _("The event is declared; warnings are going out."))
            return redirect("desk:demand:event", pk=event.pk)
        status = 400
    open_now = services.open_events()
    context = {
        "nav": "demand",
        "form": form,
        "open_events": open_now.order_by("starts_at"),
        "past_events": DemandEvent.objects.exclude(pk__in=open_now.values("pk")).order_by(
            "-starts_at"
        )[:30],
    }
    return render(request, "demand/events.html", context, status=status)


@permission_required(READ)
def event(request, pk):
    event = get_object_or_404(DemandEvent, pk=pk)
    now = timezone.now()
    unreached = (
        CallListEntry.objects.filter(event=event, acknowledged_at__isnull=True)
        .select_related("customer", "manager__user")
        .order_by("due_at", "customer__name")
    )
    context = {
        "nav": "demand",
        "event": event,
        "vens": openadr.ven_summary(event),
        "affected": event.affected.select_related("feeder__area__region").order_by(
            "feeder__area__name", "feeder__name"
        ),
        "windows": SheddingWindow.objects.filter(event=event)
        .select_related("feeder__area")
        .order_by("starts_at", "feeder__name"),
        "progress": fanout.progress(event),
        "report": event_report(event, now),
        "unreached": unreached[:200],
        "is_over": event.ends_at <= now,
        "now": now,
        "can_cancel": request.user.has_perm(DECLARE)
        and event.status == EventStatus.DECLARED
        and event.ends_at > now,
    }
    return render(request, "demand/event.html", context)


@require_POST
@permission_required(DECLARE)
def cancel(request, pk):
    event = get_object_or_404(DemandEvent, pk=pk)
    try:
        services.cancel_event(event, actor=request.user, note=request.POST.get("note", ""))
    except services.DemandError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The event is cancelled."))
    return redirect("desk:demand:event", pk=event.pk)


def _my_calls(user):
    manager = AccountManager.objects.filter(user=user).first()
    entries = CallListEntry.objects.filter(
        event__in=services.open_events().values("pk")
    ).select_related("event", "customer", "manager__user")
    if manager is None:
        return manager, entries.none()
    return manager, entries.filter(manager=manager)


def _calls_page(request, status=200):
    manager, entries = _my_calls(request.user)
    context = {
        "nav": "demand_calls",
        "manager": manager,
        "entries": entries.order_by("acknowledged_at", "due_at", "customer__name"),
        "outcomes": CallOutcome.choices,
        "now": timezone.now(),
    }
    return render(request, "demand/calls.html", context, status=status)


@permission_required(CALL)
def calls(request):
    return _calls_page(request)


@require_POST
@permission_required(CALL)
def record(request, pk):
    _manager, entries = _my_calls(request.user)
    entry = get_object_or_404(entries, pk=pk)
    try:
        services.record_call(
            entry,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        )
    except services.DemandError as exc:
        messages.error(request, str(exc))
        return _calls_page(request, status=400)
    messages.success(request, _("The call is recorded."))
    return redirect("desk:demand:calls")
