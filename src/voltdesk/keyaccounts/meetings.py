"""Annual meetings: every club member meets its account manager at least once a calendar year.

The life of a meeting: ``ensure_annual_meetings`` creates it (to be scheduled)
with a task for the manager, due by the end of the year (or the date set in
``VOLTDESK_CLUB_MEETING_DUE``, "MM-DD"); the manager schedules it, which sends
the customer an invitation with an iCalendar (.ics) file; the manager records
the minutes and outcomes, which completes the task and sends a satisfaction
survey. A cancelled meeting of a member is replaced by a new one to schedule,
so the year's obligation stays visible until a meeting is held.

The outbox carries text only, so the .ics sent with an invitation is stored on
the meeting (``invitation_ics``) and the portal serves it at
``/portal/meetings/<id>/invitation.ics``; the invitation links there.
"""

import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from voltdesk.core.services import get_utility, log_action, utility_zone

from .choices import MeetingStatus, MembershipStatus, SurveyContext, TaskKind
from .models import AccountManager, Meeting, Membership, PortfolioAssignment, Task
from .portfolio import _audit, _manager_contact, _public_url, _tell_customer
from .surveys import send_survey
from .tasks_service import complete_task, local_today, manager_language

logger = logging.getLogger(__name__)

OPEN = [MeetingStatus.TO_SCHEDULE, MeetingStatus.SCHEDULED]
BATCH = 1000


class MeetingError(ValueError):
    """A meeting change that cannot be made; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def meeting_length() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "VOLTDESK_CLUB_MEETING_MINUTES", 60)))


def annual_due_date(year: int, *, today: date | None = None) -> date:
    """When the year's meeting is due: the configured day, else 31 December.

    A meeting created after the configured day (a member who joined late in
    the year) is due by 31 December; one created on that day, by that day.
    """
    month, day = (
        int(p) for p in getattr(settings, "VOLTDESK_CLUB_MEETING_DUE", "12-31").split("-")
    )
    due = date(year, month, day)
    today = today or local_today()
    if due < today:
        due = max(date(year, 12, 31), today)
    return due


# Creating the year's meetings


def ensure_annual_meetings(year: int, *, today: date | None = None, actor=None) -> int:
    """Make sure every current member has a meeting for ``year``; returns how many were created.

    A member already has one when it has a meeting of that year that was not
    cancelled (to schedule, scheduled or held). Members without an account
    manager are left out (they get one, and a meeting, on assignment). Past
    years are left alone. Idempotent: a second call creates nothing.
    """
    today = today or local_today()
    if year < today.year:
        return 0
    members = Membership.objects.filter(status=MembershipStatus.MEMBER).values_list(
        "customer_id", flat=True
    )
    return ensure_meetings_for(year, members, today=today, actor=actor)


def ensure_meetings_for(year: int, customer_ids, *, today: date | None = None, actor=None) -> int:
    """``ensure_annual_meetings`` for some customers (new members): set-based, in bulk."""
    today = today or local_today()
    due_by = annual_due_date(year, today=today)
    with transaction.atomic():
        # Serialises concurrent calls: each member's row is locked while its meeting is decided.
        list(
            Membership.objects.select_for_update()
            .filter(customer_id__in=customer_ids, status=MembershipStatus.MEMBER)
            .values_list("pk", flat=True)
        )
        has_meeting = Meeting.objects.filter(
            customer_id=OuterRef("customer_id"), year=year
        ).exclude(status=MeetingStatus.CANCELLED)
        wanted = list(
            PortfolioAssignment.objects.filter(
                end__isnull=True,
                customer_id__in=customer_ids,
                customer__membership__status=MembershipStatus.MEMBER,
            )
            .exclude(Exists(has_meeting))
            .values_list("customer_id", "customer__name", "manager_id")
        )
        if not wanted:
            return 0
        managers = {
            m.pk: m
            for m in AccountManager.objects.filter(
                pk__in={manager_id for _c, _n, manager_id in wanted}
            ).select_related("user__profile")
        }
        tasks = []
        for customer_id, name, manager_id in wanted:
            with translation.override(manager_language(managers[manager_id])):
                title = _("Annual meeting %(year)s with %(customer)s") % {
                    "year": year,
                    "customer": name,
                }
            tasks.append(
                Task(
                    manager_id=manager_id,
                    customer_id=customer_id,
                    kind=TaskKind.MEETING,
                    title=title[:200],
                    due_on=due_by,
                )
            )
        Task.objects.bulk_create(tasks, batch_size=BATCH)
        meetings = [
            Meeting(
                customer_id=task.customer_id,
                manager_id=task.manager_id,
                year=year,
                due_by=due_by,
                task=task,
            )
            for task in tasks
        ]
        Meeting.objects.bulk_create(meetings, batch_size=BATCH)
        _audit(
            actor,
            "club.meeting_created",
            meetings,
            lambda m: {"year": year, "due_by": due_by.isoformat(), "task": m.task_id},
        )
    return len(meetings)


# Scheduling, the invitation and its calendar file


def _locked(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("customer", "manager__user")
        .get(pk=meeting.pk)
    )


def schedule_meeting(meeting: Meeting, *, at: datetime, location: str, actor) -> Meeting:
    """Set (or move) the meeting's time and place and send the customer an invitation.

    A time without a zone is the utility's local time. Moving a scheduled
    meeting raises its iCalendar revision, so calendars update the event.
    """
    location = (location or "").strip()
    if at is None:
        raise MeetingError("at", _("Choose when the meeting will be held."))
    if timezone.is_naive(at):
        at = timezone.make_aware(at, utility_zone())
    if at <= timezone.now():
        raise MeetingError("at", _("Choose a time in the future."))
    if not location:
        raise MeetingError("location", _("Say where the meeting will be held."))
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status not in OPEN:
            raise MeetingError(
                "status", _("A meeting that was held or cancelled cannot be scheduled.")
            )
        rescheduled = meeting.status == MeetingStatus.SCHEDULED
        previous = meeting.scheduled_at
        if rescheduled:
            meeting.sequence += 1
        meeting.status = MeetingStatus.SCHEDULED
        meeting.scheduled_at = at
        meeting.location = location[:200]
        meeting.invitation_ics = meeting_ics(meeting).decode()
        meeting.save(
            update_fields=["status", "scheduled_at", "location", "sequence", "invitation_ics"]
        )
        log_action(
            actor,
            "club.meeting_rescheduled" if rescheduled else "club.meeting_scheduled",
            meeting,
            {
                "at": at.isoformat(),
                "location": meeting.location,
                "previous": previous.isoformat() if previous else None,
                "sequence": meeting.sequence,
            },
        )
        _tell_customer(
            meeting.customer,
            "meeting_invitation",
            {
                "name": meeting.customer.name,
                "when": at,
                "tz": get_utility().time_zone,
                "location": meeting.location,
                "rescheduled": rescheduled,
                "ics_url": ics_url(meeting),
                **_manager_contact(meeting.manager),
            },
            f"club:meeting-invitation:{meeting.pk}:{meeting.sequence}",
        )
    return meeting


def ics_url(meeting: Meeting) -> str:
    """Where the portal serves the meeting's .ics (the customer's users, signed in)."""
    return _public_url(f"/portal/meetings/{meeting.pk}/invitation.ics")


def _uid(meeting: Meeting) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "voltdesk.invalid"
    return f"voltdesk-club-meeting-{meeting.pk}@{domain}"


def meeting_ics(meeting: Meeting) -> bytes:
    """The meeting as an iCalendar invitation (METHOD:REQUEST, or CANCEL once cancelled).

    The UID is stable for the meeting and SEQUENCE is its revision, so a moved
    or cancelled meeting updates the event already in the customer's calendar.
    Times are in UTC; the summary is in the customer's language; the organiser
    is the account manager.
    """
    if meeting.scheduled_at is None:
        raise MeetingError("at", _("The meeting has not been scheduled yet."))
    utility = get_utility()
    manager = meeting.manager
    customer = meeting.customer
    cancelled = meeting.status == MeetingStatus.CANCELLED
    language = customer.language or utility.default_language
    with translation.override(language):
        summary = _("Annual meeting: %(customer)s and %(utility)s") % {
            "customer": customer.name,
            "utility": utility.name,
        }
        description = _("Your account manager: %(manager)s %(phone)s") % {
            "manager": manager,
            "phone": manager.phone,
        }
    start = meeting.scheduled_at.astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//VoltDesk//Business club//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", _uid(meeting))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + meeting_length())
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", summary)
    event.add("description", description.strip())
    event.add("location", meeting.location)
    organizer = vCalAddress(
        "mailto:" + (manager.email or manager.user.email or settings.DEFAULT_FROM_EMAIL)
    )
    organizer.params["cn"] = vText(str(manager))
    event["organizer"] = organizer
    if customer.email:
        attendee = vCalAddress(f"mailto:{customer.email}")
        attendee.params["cn"] = vText(customer.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


# Holding or calling off


def record_meeting(meeting: Meeting, *, minutes: str, outcomes: str, actor) -> Meeting:
    """The meeting was held: keep its minutes and outcomes, complete its task, send a survey."""
    minutes = (minutes or "").strip()
    if not minutes:
        raise MeetingError("minutes", _("Write the minutes of the meeting."))
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status not in OPEN:
            raise MeetingError(
                "status", _("This meeting was already recorded as held or was cancelled.")
            )
        now = timezone.now()
        meeting.status = MeetingStatus.HELD
        at = meeting.scheduled_at
        meeting.held_at = at if at is not None and at <= now else now
        meeting.minutes = minutes
        meeting.outcomes = (outcomes or "").strip()
        meeting.save(update_fields=["status", "held_at", "minutes", "outcomes"])
        log_action(actor, "club.meeting_held", meeting, {"held_at": meeting.held_at.isoformat()})
        if meeting.task_id:
            complete_task(meeting.task, actor=actor)
        send_survey(meeting.customer, context=SurveyContext.MEETING, meeting=meeting)
    return meeting


def cancel_meeting(meeting: Meeting, *, actor, reason: str = "", replace: bool = True) -> Meeting:
    """Call a meeting off; a scheduled one is cancelled in the customer's calendar too.

    With ``replace`` (the default), a member whose year has no other meeting
    gets a new one to schedule, carrying the same task; otherwise the task is
    closed.
    """
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status not in OPEN:
            raise MeetingError("status", _("Only a meeting still to be held can be cancelled."))
        was_scheduled = meeting.status == MeetingStatus.SCHEDULED
        meeting.status = MeetingStatus.CANCELLED
        if was_scheduled:
            meeting.sequence += 1
            meeting.invitation_ics = meeting_ics(meeting).decode()
        task = meeting.task
        meeting.task = None
        meeting.save(update_fields=["status", "sequence", "invitation_ics", "task"])
        log_action(
            actor,
            "club.meeting_cancelled",
            meeting,
            {"reason": reason, "was_scheduled": was_scheduled},
        )
        if was_scheduled:
            _tell_customer(
                meeting.customer,
                "meeting_cancelled",
                {
                    "name": meeting.customer.name,
                    "when": meeting.scheduled_at,
                    "tz": get_utility().time_zone,
                    "ics_url": ics_url(meeting),
                    **_manager_contact(meeting.manager),
                },
                f"club:meeting-cancelled:{meeting.pk}",
            )
        replacement = None
        is_member = Membership.objects.filter(
            customer_id=meeting.customer_id, status=MembershipStatus.MEMBER
        ).exists()
        other = (
            Meeting.objects.filter(customer_id=meeting.customer_id, year=meeting.year)
            .exclude(status=MeetingStatus.CANCELLED)
            .exists()
        )
        if replace and is_member and not other:
            replacement = Meeting.objects.create(
                customer_id=meeting.customer_id,
                manager_id=meeting.manager_id,
                year=meeting.year,
                due_by=meeting.due_by,
                task=task,
            )
            log_action(actor, "club.meeting_created", replacement, {"replaces": meeting.pk})
        elif task is not None:
            complete_task(task, actor=actor)
    return meeting


# Due and overdue


def meetings_due(*, manager: AccountManager | None = None, today: date | None = None) -> dict:
    """Meetings still to be held: ``due`` (by today or later) and ``overdue`` (due date passed).

    A manager sees its own; without a manager (supervisors), everyone's.
    """
    today = today or local_today()
    meetings: QuerySet[Meeting] = Meeting.objects.filter(status__in=OPEN).select_related(
        "customer", "manager__user"
    )
    if manager is not None:
        meetings = meetings.filter(manager=manager)
    return {
        "due": meetings.filter(due_by__gte=today).order_by("due_by", "pk"),
        "overdue": meetings.filter(due_by__lt=today).order_by("due_by", "pk"),
    }
