"""Desk pages of the business club, mounted at /desk/club/ (namespace ``desk:club``).

* ``overview``: the supervisor's page: evaluations, joins and leaves with their
  reasons, meetings due across managers, survey results, portfolios, reassigning.
* ``my_members``: the account manager's workspace: members, tasks, meetings.
* ``meeting``: one meeting: schedule it (with its .ics) or record it.

Views parse input, check permission, read through ``core.access`` and call the
club's services; the rules live in those services.
"""

from datetime import date, datetime
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voltdesk.core.access import (
    account_manager_of,
    own_meetings,
    own_tasks,
    visible_decisions,
    visible_eligibility_runs,
    visible_meetings,
    visible_memberships,
    visible_rollups,
    visible_tasks,
    visible_work_orders,
)
from voltdesk.core.services import utility_zone
from voltdesk.desk.views import staff_required
from voltdesk.metering.models import MonthlyRollup
from voltdesk.portal.consumption import month_starts
from voltdesk.workorders.choices import OPEN_STATUSES

from .choices import DecisionKind, MeetingStatus
from .eligibility import months_before
from .forms import ReassignForm, RecordMeetingForm, ScheduleMeetingForm, SurveyPeriodForm
from .meetings import MeetingError, meeting_ics, meetings_due, record_meeting, schedule_meeting
from .models import AccountManager
from .portfolio import PortfolioError, assign_manager, portfolio_of, portfolio_sizes
from .services import EligibilityError, evaluate_club
from .surveys import survey_results
from .tasks_service import complete_task, local_today, open_tasks

DECISIONS_PER_PAGE = 100
RUN_HISTORY = 24
OVERDUE_SHOWN = 100
SURVEY_GROUPS = ("manager", "region", "month")


def club_permission_required(perm: str):
    """Desk users with ``perm``; other signed-in users get 403, anonymous ones log in."""

    def decorator(view):
        @wraps(view)
        @staff_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _error_to_form(form, exc) -> None:
    """A service error with a ``field`` shown next to that field (else above the form)."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _back(request, default: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


# The supervisor's page


@club_permission_required("keyaccounts.view_eligibilityrun")
def overview(request):
    """The latest evaluation, this month's joins and leaves, meetings, surveys and portfolios."""
    user = request.user
    today = local_today()
    this_month = today.replace(day=1)
    month_start = _month_param(request.GET.get("month"), this_month)
    next_month = months_before(month_start, -1)
    runs = visible_eligibility_runs(user).select_related("actor")
    kind = request.GET.get("kind", "")
    decisions = (
        visible_decisions(user)
        .filter(run__as_of__gte=month_start, run__as_of__lt=next_month)
        .select_related("membership__customer", "run")
        .order_by("-run__as_of", "kind", "membership__customer__ref")
    )
    counts = dict(decisions.order_by().values_list("kind").annotate(n=Count("pk")))
    if kind in DecisionKind.values:
        decisions = decisions.filter(kind=kind)
    page = Paginator(decisions, DECISIONS_PER_PAGE).get_page(request.GET.get("page"))

    due = meetings_due(today=today)
    due_qs = visible_meetings(user, due["due"])
    overdue_qs = visible_meetings(user, due["overdue"])
    due_by_manager = dict(due_qs.order_by().values_list("manager").annotate(n=Count("pk")))
    overdue_by_manager = dict(overdue_qs.order_by().values_list("manager").annotate(n=Count("pk")))
    sizes = portfolio_sizes()
    managers = [
        {
            "manager": m,
            "members": sizes.get(m.pk, 0),
            "due": due_by_manager.get(m.pk, 0),
            "overdue": overdue_by_manager.get(m.pk, 0),
        }
        for m in AccountManager.objects.select_related("user", "region")
    ]

    asked = "date_from" in request.GET or "date_to" in request.GET
    period = SurveyPeriodForm(request.GET if asked else None)
    date_from, date_to = months_before(this_month, 11), today
    if period.is_bound and period.is_valid():
        date_from = period.cleaned_data["date_from"]
        date_to = period.cleaned_data["date_to"]
    elif not period.is_bound:
        period = SurveyPeriodForm(initial={"date_from": date_from, "date_to": date_to})
    surveys = {
        group: survey_results(group_by=group, date_from=date_from, date_to=date_to)
        for group in SURVEY_GROUPS
    }
    return render(
        request,
        "keyaccounts/overview.html",
        {
            "nav": "club",
            "today": today,
            "month_start": month_start,
            "month_param": month_start.strftime("%Y-%m"),
            "previous_month": months_before(month_start, 1).strftime("%Y-%m"),
            "next_month": next_month.strftime("%Y-%m") if next_month <= this_month else "",
            "latest": runs.first(),
            "runs": runs[:RUN_HISTORY],
            "page": page,
            "kind": kind if kind in DecisionKind.values else "",
            "joined_count": counts.get(DecisionKind.JOINED, 0),
            "left_count": counts.get(DecisionKind.LEFT, 0),
            "overdue": overdue_qs[:OVERDUE_SHOWN],
            "overdue_total": overdue_qs.count(),
            "due_total": due_qs.count(),
            "managers": managers,
            "period": period,
            "surveys": [
                (_("By account manager"), surveys["manager"]),
                (_("By region"), surveys["region"]),
                (_("By month"), surveys["month"]),
            ],
            "reassign_form": ReassignForm(),
            "may_evaluate": user.has_perm("keyaccounts.add_eligibilityrun"),
            "may_reassign": user.has_perm("keyaccounts.add_portfolioassignment"),
        },
    )


def _month_param(value: str | None, default: date) -> date:
    """``?month=YYYY-MM`` as the month's first day; anything else, or a later month: ``default``."""
    try:
        month = datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return default
    return month if month <= default else default


@club_permission_required("keyaccounts.add_eligibilityrun")
@require_POST
def evaluate(request):
    """Run an evaluation as of today (a date already evaluated is not evaluated again)."""
    try:
        result = evaluate_club(actor=request.user)
    except EligibilityError as exc:
        messages.error(request, str(exc))
    else:
        values = {
            "date": result.run.as_of,
            "joined": result.joined,
            "left": result.left,
            "stayed": result.stayed,
        }
        if result.created:
            messages.success(
                request,
                _("Evaluation as of %(date)s: %(joined)s joined, %(left)s left, %(stayed)s stayed.")
                % values,
            )
        else:
            messages.info(
                request,
                _("The club was already evaluated as of %(date)s; nothing changed.") % values,
            )
    return redirect("desk:club:overview")


@club_permission_required("keyaccounts.add_portfolioassignment")
@require_POST
def reassign(request):
    """A supervisor gives a member another account manager; history is kept."""
    form = ReassignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, reverse("desk:club:overview"))
    data = form.cleaned_data
    membership = (
        visible_memberships(request.user)
        .filter(customer__ref=data["customer"].strip())
        .select_related("customer")
        .first()
    )
    if membership is None:
        messages.error(request, _("No club member has this customer number."))
        return _back(request, reverse("desk:club:overview"))
    try:
        assign_manager(
            membership.customer,
            manager=data["manager"],
            actor=request.user,
            reason=data["reason"],
        )
    except PortfolioError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(customer)s is now looked after by %(manager)s.")
            % {"customer": membership.customer.name, "manager": data["manager"]},
        )
    return _back(request, reverse("desk:club:overview"))


# The account manager's workspace


def _bar(membership) -> Decimal | None:
    """The bar that applies to the member: single-site for one site, else the group bar."""
    run = membership.last_run
    if run is None:
        return None
    return run.single_site_kwh if membership.site_count <= 1 else run.multi_site_kwh


def _trends(user, customer_ids: list[int], today: date) -> dict[int, dict]:
    """Each customer's last 12 whole months against the same months a year earlier.

    Read from the monthly rollups of the sites the customer holds now (one
    aggregate query); only months with figures in both years are compared, so
    a month missing from either year does not pass for a rise or a fall.
    """
    months = month_starts(24, last=months_before(today.replace(day=1), 1))
    rollups = MonthlyRollup.objects.filter(
        site__customer_id__in=customer_ids, month__gte=months[0], month__lte=months[-1]
    )
    rows = (
        visible_rollups(user, rollups, date_field="month")
        .values("site__customer_id", "month")
        .annotate(kwh=Sum("kwh"))
        .order_by()
    )
    by_customer: dict[int, dict[date, Decimal]] = {}
    for row in rows:
        by_customer.setdefault(row["site__customer_id"], {})[row["month"]] = row["kwh"]
    trends = {}
    for customer_id, by_month in by_customer.items():
        recent = before = Decimal(0)
        for earlier, later in zip(months[:12], months[12:], strict=True):
            if earlier in by_month and later in by_month:
                before += by_month[earlier]
                recent += by_month[later]
        change = (recent - before) * 100 / before if before else None
        trends[customer_id] = {"change": change}
    return trends


@club_permission_required("keyaccounts.view_membership")
def my_members(request):
    """My members with their figures against the bar, my tasks and my meetings."""
    user = request.user
    manager = account_manager_of(user)
    context = {"nav": "my_members", "manager": manager}
    if manager is None:
        return render(request, "keyaccounts/my_members.html", context)
    today = local_today()
    memberships = list(visible_memberships(user, portfolio_of(manager)).select_related("last_run"))
    ids = [m.customer_id for m in memberships]
    trends = _trends(user, ids, today)
    next_meetings = {}
    open_meetings = (
        visible_meetings(user)
        .filter(
            customer_id__in=ids, status__in=[MeetingStatus.TO_SCHEDULE, MeetingStatus.SCHEDULED]
        )
        .order_by("customer_id", "due_by", "pk")
    )
    for meeting in open_meetings:
        next_meetings.setdefault(meeting.customer_id, meeting)
    open_orders = dict(
        visible_work_orders(user)
        .filter(customer_id__in=ids, status__in=OPEN_STATUSES)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    rows = []
    for membership in memberships:
        bar = _bar(membership)
        share = membership.annual_kwh * 100 / bar if bar else None
        rows.append(
            {
                "membership": membership,
                "customer": membership.customer,
                "bar": bar,
                "share": share,
                "share_width": min(share, Decimal(100)) if share is not None else 0,
                "trend": trends.get(membership.customer_id),
                "meeting": next_meetings.get(membership.customer_id),
                "open_orders": open_orders.get(membership.customer_id, 0),
            }
        )
    due = meetings_due(manager=manager, today=today)
    context.update(
        today=today,
        rows=rows,
        tasks=visible_tasks(user, open_tasks(manager)),
        due=visible_meetings(user, due["due"]),
        overdue=visible_meetings(user, due["overdue"]),
    )
    return render(request, "keyaccounts/my_members.html", context)


@club_permission_required("keyaccounts.change_task")
@require_POST
def task_done(request, pk):
    task = get_object_or_404(own_tasks(request.user), pk=pk)
    complete_task(task, actor=request.user)
    messages.success(request, _("Task done: %(task)s") % {"task": task.title})
    return _back(request, reverse("desk:club:my_members"))


# Meetings


@club_permission_required("keyaccounts.view_meeting")
def meeting(request, pk):
    """One meeting: its state, and for its account manager the forms to schedule or record it."""
    user = request.user
    meeting = get_object_or_404(
        visible_meetings(user).select_related("customer", "manager__user", "task"), pk=pk
    )
    may_act = own_meetings(user).filter(pk=meeting.pk).exists()
    zone = utility_zone()
    local_at = timezone.localtime(meeting.scheduled_at, zone) if meeting.scheduled_at else None
    schedule_form = ScheduleMeetingForm(
        initial={
            "at": local_at.replace(tzinfo=None) if local_at else None,
            "location": meeting.location,
        }
    )
    record_form = RecordMeetingForm()
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "schedule":
            schedule_form = ScheduleMeetingForm(request.POST)
            with timezone.override(zone):  # the time typed is the utility's local time
                valid = schedule_form.is_valid()
            if valid:
                try:
                    schedule_meeting(
                        meeting,
                        at=schedule_form.cleaned_data["at"],
                        location=schedule_form.cleaned_data["location"],
                        actor=user,
                    )
                except MeetingError as exc:
                    _error_to_form(schedule_form, exc)
                else:
                    messages.success(
                        request, _("The meeting is scheduled and the customer was invited.")
                    )
                    return redirect("desk:club:meeting", pk=meeting.pk)
        elif action == "record":
            record_form = RecordMeetingForm(request.POST)
            if record_form.is_valid():
                try:
                    record_meeting(
                        meeting,
                        minutes=record_form.cleaned_data["minutes"],
                        outcomes=record_form.cleaned_data["outcomes"],
                        actor=user,
                    )
                except MeetingError as exc:
                    _error_to_form(record_form, exc)
                else:
                    messages.success(
                        request, _("The meeting is recorded; the customer will get a survey.")
                    )
                    return redirect("desk:club:meeting", pk=meeting.pk)
        else:
            return HttpResponseBadRequest()
    is_open = meeting.status in (MeetingStatus.TO_SCHEDULE, MeetingStatus.SCHEDULED)
    return render(
        request,
        "keyaccounts/meeting.html",
        {
            "nav": "my_members",
            "meeting": meeting,
            "may_act": may_act and is_open,
            "schedule_form": schedule_form,
            "record_form": record_form,
            "surveys": meeting.surveys.all(),
        },
    )


@club_permission_required("keyaccounts.view_meeting")
def meeting_invitation(request, pk):
    """The meeting's .ics: the invitation last sent to the customer."""
    meeting = get_object_or_404(
        visible_meetings(request.user)
        .filter(scheduled_at__isnull=False)
        .select_related("customer", "manager__user"),
        pk=pk,
    )
    return ics_response(meeting)


def ics_response(meeting) -> HttpResponse:
    """An .ics download of the invitation as sent (or as it would be sent now)."""
    body = meeting.invitation_ics.encode() if meeting.invitation_ics else meeting_ics(meeting)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
