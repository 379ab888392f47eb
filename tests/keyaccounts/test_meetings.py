"""Annual meetings: created for every member, scheduled with an .ics, held, cancelled, overdue."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from tests.keyaccounts.conftest import local
from voltdesk.core import roles
from voltdesk.keyaccounts.meetings import (
    MeetingError,
    cancel_meeting,
    ensure_annual_meetings,
    meeting_ics,
    meetings_due,
    record_meeting,
    schedule_meeting,
)
from voltdesk.keyaccounts.models import Meeting, SurveyResponse, Task
from voltdesk.keyaccounts.portfolio import assign_manager
from voltdesk.notifications.models import Message

NEXT_YEAR = timezone.now().year + 1


@pytest.fixture
def member(make_customer, make_manager, join_club):
    """A member with its manager (assigned directly; no meeting yet)."""
    manager = make_manager("Dana Levi", email="dana@utility.example")
    customer = make_customer("Ofek Ltd", email="ceo@ofek.example", language="he")
    join_club(customer, as_of=date(2026, 1, 1))
    assign_manager(customer, manager=manager)
    return customer


@pytest.fixture
def meeting(member):
    ensure_annual_meetings(2026, today=date(2026, 3, 1))
    return Meeting.objects.get(customer=member)


def test_every_member_gets_one_meeting_a_year_and_a_second_call_creates_none(
    member, make_customer, make_manager, join_club, leave_club
):
    # A member without a manager and a former member get no meeting.
    unmanaged = make_customer()
    join_club(unmanaged, as_of=date(2026, 1, 1))
    former = make_customer()
    join_club(former, as_of=date(2025, 1, 1))
    leave_club(former, as_of=date(2025, 6, 1))

    assert ensure_annual_meetings(2026, today=date(2026, 3, 1)) == 1
    assert ensure_annual_meetings(2026, today=date(2026, 3, 1)) == 0

    meeting = Meeting.objects.get(customer=member)
    assert (meeting.year, meeting.due_by, meeting.status) == (
        2026,
        date(2026, 12, 31),
        "to_schedule",
    )
    assert meeting.task.kind == "meeting" and meeting.task.due_on == date(2026, 12, 31)
    assert meeting.task.manager == meeting.manager
    assert Meeting.objects.count() == 1
    # Another year is another meeting; a past year is left alone.
    assert ensure_annual_meetings(2027, today=date(2026, 3, 1)) == 1
    assert ensure_annual_meetings(2025, today=date(2026, 3, 1)) == 0


def test_a_held_meeting_counts_for_the_year(meeting):
    record_meeting(meeting, minutes="Reviewed the tariff.", outcomes="", actor=None)
    assert ensure_annual_meetings(2026, today=date(2026, 3, 1)) == 0


def test_the_due_date_can_be_configured(member, settings):
    settings.VOLTDESK_CLUB_MEETING_DUE = "06-30"
    ensure_annual_meetings(2026, today=date(2026, 3, 1))
    assert Meeting.objects.get(customer=member).due_by == date(2026, 6, 30)


def test_scheduling_sends_an_invitation_whose_ics_parses_back_in_utc(meeting, make_user):
    manager_user = meeting.manager.user
    # 10 March, 10:00 in Jerusalem (UTC+2, before daylight saving) is 08:00 UTC.
    at = local(NEXT_YEAR, 3, 10, 10, 0)

    schedule_meeting(meeting, at=at, location="Ofek HQ, Haifa", actor=manager_user)

    meeting.refresh_from_db()
    assert meeting.status == "scheduled" and meeting.sequence == 0
    calendar = Calendar.from_ical(meeting_ics(meeting))
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(NEXT_YEAR, 3, 10, 8, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(NEXT_YEAR, 3, 10, 9, 0, tzinfo=UTC)
    assert event["dtstart"].to_ical().decode() == f"{NEXT_YEAR}0310T080000Z"
    assert str(event["uid"]).startswith(f"voltdesk-club-meeting-{meeting.pk}@")
    assert str(event["location"]) == "Ofek HQ, Haifa"
    assert str(event["organizer"]) == "mailto:dana@utility.example"
    assert "Ofek Ltd" in str(event["summary"])
    # The stored invitation (served by the portal) is the same event.
    stored = Calendar.from_ical(meeting.invitation_ics)
    assert stored.walk("VEVENT")[0]["uid"] == event["uid"]
    invitation = Message.objects.get(template="meeting_invitation")
    assert invitation.customer == meeting.customer and invitation.language == "he"
    assert f"/portal/meetings/{meeting.pk}/invitation.ics" in invitation.body
    assert "Ofek HQ, Haifa" in invitation.body
    assert "10:00" in invitation.body  # local time, not UTC

    # Moving it raises the revision and sends a second invitation for the same event.
    schedule_meeting(meeting, at=at + timedelta(days=1), location="Online", actor=manager_user)
    meeting.refresh_from_db()
    moved = Calendar.from_ical(meeting_ics(meeting)).walk("VEVENT")[0]
    assert moved["uid"] == event["uid"] and moved["sequence"] == 1
    assert Message.objects.filter(template="meeting_invitation").count() == 2


@pytest.mark.parametrize(
    ("at", "location", "field"),
    [
        (datetime(2020, 1, 1, tzinfo=UTC), "Office", "at"),
        (None, "Office", "at"),
        (datetime(NEXT_YEAR + 1, 1, 1, tzinfo=UTC), "  ", "location"),
    ],
)
def test_scheduling_refuses_bad_input_and_changes_nothing(meeting, at, location, field):
    with pytest.raises(MeetingError) as error:
        schedule_meeting(meeting, at=at, location=location, actor=None)
    assert error.value.field == field
    meeting.refresh_from_db()
    assert meeting.status == "to_schedule"
    assert not Message.objects.filter(template="meeting_invitation").exists()


def test_recording_a_meeting_completes_its_task_and_sends_a_survey(meeting):
    actor = meeting.manager.user
    schedule_meeting(meeting, at=local(NEXT_YEAR, 2, 1, 9), location="Office", actor=actor)

    record_meeting(meeting, minutes="Discussed peak shaving.", outcomes="Audit in May", actor=actor)

    meeting.refresh_from_db()
    assert meeting.status == "held" and meeting.held_at is not None
    assert meeting.minutes == "Discussed peak shaving." and meeting.outcomes == "Audit in May"
    assert Task.objects.get(pk=meeting.task_id).done_at is not None
    survey = SurveyResponse.objects.get(meeting=meeting)
    assert survey.context == "meeting" and survey.manager == meeting.manager
    assert Message.objects.filter(template="survey_invitation", customer=meeting.customer).exists()
    with pytest.raises(MeetingError) as error:
        record_meeting(meeting, minutes="again", outcomes="", actor=actor)
    assert error.value.field == "status"


def test_minutes_are_required(meeting):
    with pytest.raises(MeetingError) as error:
        record_meeting(meeting, minutes="  ", outcomes="", actor=None)
    assert error.value.field == "minutes"


def test_cancelling_a_scheduled_meeting_cancels_the_event_and_keeps_the_obligation(meeting):
    actor = meeting.manager.user
    schedule_meeting(meeting, at=local(NEXT_YEAR, 2, 1, 9), location="Office", actor=actor)
    task_id = meeting.task_id

    cancel_meeting(meeting, actor=actor, reason="Customer asked")

    meeting.refresh_from_db()
    assert meeting.status == "cancelled"
    calendar = Calendar.from_ical(meeting.invitation_ics)
    assert str(calendar["method"]) == "CANCEL"
    assert calendar.walk("VEVENT")[0]["sequence"] == 1
    assert Message.objects.filter(template="meeting_cancelled").count() == 1
    replacement = Meeting.objects.get(customer=meeting.customer, status="to_schedule")
    assert replacement.task_id == task_id and replacement.year == 2026


def test_due_and_overdue_meetings_for_managers_and_supervisors(
    meeting, make_customer, make_manager, join_club
):
    other_manager = make_manager("Other")
    other = make_customer()
    join_club(other, as_of=date(2026, 1, 1))
    assign_manager(other, manager=other_manager)
    ensure_annual_meetings(2027, today=date(2026, 12, 1))  # both members, due end of 2027

    mine = meetings_due(manager=meeting.manager, today=date(2027, 1, 5))
    assert list(mine["overdue"]) == [meeting]  # 2026's, not held by 31 December
    assert [m.year for m in mine["due"]] == [2027]
    everyone = meetings_due(today=date(2027, 1, 5))  # a supervisor's view
    assert everyone["overdue"].count() == 1 and everyone["due"].count() == 2
    record_meeting(meeting, minutes="Late but held.", outcomes="", actor=None)
    assert not meetings_due(today=date(2027, 1, 5))["overdue"].exists()


def test_audit_rows_name_the_actor(meeting, make_user):
    from voltdesk.core.models import AuditEntry

    supervisor = make_user(roles.SUPERVISOR)
    schedule_meeting(meeting, at=local(NEXT_YEAR, 2, 1, 9), location="Office", actor=supervisor)
    entry = AuditEntry.objects.get(action="club.meeting_scheduled")
    assert entry.actor == supervisor and entry.object_id == str(meeting.pk)


def test_the_monthly_beat_task_opens_this_years_meeting_for_a_member_without_one(member):
    from voltdesk.keyaccounts.beat import BEAT_SCHEDULE
    from voltdesk.keyaccounts.tasks import ensure_annual_meetings_monthly
    from voltdesk.keyaccounts.tasks_service import local_today

    entry = BEAT_SCHEDULE["keyaccounts-annual-meetings-monthly"]
    assert entry["task"] == "voltdesk.keyaccounts.tasks.ensure_annual_meetings_monthly"
    assert entry["schedule"].day_of_month == {1}

    assert ensure_annual_meetings_monthly.delay().get() == 1
    assert ensure_annual_meetings_monthly.delay().get() == 0
    meeting = Meeting.objects.get(customer=member)
    assert (meeting.year, meeting.status) == (local_today().year, "to_schedule")
