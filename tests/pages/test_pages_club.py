"""The business club's pages: the supervisor's page, the manager's workspace, the portal.

The club is seeded through its services: readings, then evaluations
(``evaluate_club``), managers assigned (``assign_manager``), a meeting
scheduled and a survey sent, as in production.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.core.services import utility_zone
from voltdesk.keyaccounts.choices import MeetingStatus, MembershipStatus, SurveyContext, TaskKind
from voltdesk.keyaccounts.eligibility import months_before
from voltdesk.keyaccounts.meetings import ensure_annual_meetings, schedule_meeting
from voltdesk.keyaccounts.models import (
    AccountManager,
    Meeting,
    Membership,
    PortfolioAssignment,
    SurveyResponse,
    Task,
)
from voltdesk.keyaccounts.portfolio import assign_manager, current_manager
from voltdesk.keyaccounts.services import evaluate_club
from voltdesk.keyaccounts.surveys import send_survey
from voltdesk.keyaccounts.tasks_service import create_task, local_today
from voltdesk.metering.models import Reading
from voltdesk.metering.periods import local_midnight


def _read(site, first: dt.date, until: dt.date, kwh: str) -> None:
    zone = utility_zone()
    Reading.objects.create(
        site=site,
        start=local_midnight(first, zone),
        end=local_midnight(until, zone),
        kwh=Decimal(kwh),
        source="meter",
    )


def _manager(make_user, username, first, last, email):
    user = make_user(roles.ACCOUNT_MANAGER, username=username)
    user.first_name, user.last_name, user.email = first, last, email
    user.save()
    return AccountManager.objects.create(user=user, phone="+972501110000", email=email)


def seed_club(world, make_user, make_customer, *, leave=False) -> SimpleNamespace:
    """Acme (A, two sites) and Blue Bakery (B, one site) join the club last month.

    A is Dana's member, B is Yossi's. A has a scheduled annual meeting, a task
    and a survey waiting. With ``leave``, this month's evaluation sees B fall
    below the bar and Carmel Foods (one site, reads for the last month only)
    join.
    """
    today = local_today()
    this_month = today.replace(day=1)
    last_month = months_before(this_month, 1)
    dana = _manager(make_user, "dana", "Dana", "Levi", "dana@utility.example")
    yossi = _manager(make_user, "yossi", "Yossi", "Cohen", "yossi@utility.example")
    supervisor = make_user(roles.SUPERVISOR, username="sara-supervisor")
    for site in world.a.sites.all():
        _read(site, months_before(this_month, 13), this_month, "3250000")
    _read(world.b_site, months_before(this_month, 13), last_month, "1050000")
    evaluate_club(as_of=last_month)
    assign_manager(world.a, manager=dana, reason="seed")
    assign_manager(world.b, manager=yossi, reason="seed")
    ensure_annual_meetings(today.year)
    meeting = Meeting.objects.get(customer=world.a, status=MeetingStatus.TO_SCHEDULE)
    at = dt.datetime.combine(today + dt.timedelta(days=10), dt.time(10, 0), tzinfo=utility_zone())
    meeting = schedule_meeting(meeting, at=at, location="1 Herzl St", actor=dana.user)
    task = create_task(
        dana,
        world.a,
        kind=TaskKind.GENERAL,
        title="Send Acme the tariff comparison",
        due_on=today + dt.timedelta(days=3),
    )
    survey = send_survey(world.a, context=SurveyContext.WORK_ORDER, work_order_ref="WO-0001")
    carmel = None
    if leave:
        carmel = make_customer(name="Carmel Foods", sites=1)
        _read(carmel.sites.get(), last_month, this_month, "1500000")
        evaluate_club(as_of=this_month)
    return SimpleNamespace(
        dana=dana,
        yossi=yossi,
        manager=dana.user,
        other_manager=yossi.user,
        supervisor=supervisor,
        meeting=meeting,
        task=task,
        survey=survey,
        carmel=carmel,
    )


@pytest.fixture
def club(world, make_user, make_customer):
    return seed_club(world, make_user, make_customer)


@pytest.fixture
def club_changes(world, make_user, make_customer):
    return seed_club(world, make_user, make_customer, leave=True)


# The supervisor's page


def test_supervisor_sees_who_joined_and_left_this_month_and_why(world, club_changes, client_for):
    response = client_for(club_changes.supervisor).get(reverse("desk:club:overview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert Membership.objects.get(customer=world.b).status == MembershipStatus.FORMER
    changes = html[html.index('id="changes"') : html.index('id="managers-title"')]
    assert "Carmel Foods" in changes and "Its one site reached the single-site bar" in changes
    assert world.b.name in changes and "Its consumption fell below the bar" in changes
    assert "1,000,000" in changes  # the bar applied
    assert club_changes.carmel.sites.get().ref in changes  # flagged: reads for one month only
    assert world.a.name not in changes  # A stayed: no change this month
    assert "Evaluation history" in html


def test_joined_and_left_filters(world, club_changes, client_for):
    client = client_for(club_changes.supervisor)

    left = client.get(reverse("desk:club:overview") + "?kind=left").content.decode()
    joined = client.get(reverse("desk:club:overview") + "?kind=joined").content.decode()

    table = left[left.index('id="changes"') : left.index('id="managers-title"')]
    assert world.b.name in table and "Carmel Foods" not in table
    table = joined[joined.index('id="changes"') : joined.index('id="managers-title"')]
    assert "Carmel Foods" in table and world.b.name not in table


def test_supervisor_looks_back_at_last_months_changes(world, club_changes, client_for):
    last_month = months_before(local_today().replace(day=1), 1)

    html = (
        client_for(club_changes.supervisor)
        .get(reverse("desk:club:overview") + f"?month={last_month:%Y-%m}")
        .content.decode()
    )

    changes = html[html.index('id="changes"') : html.index('id="managers-title"')]
    assert world.a.name in changes and "All its sites together reached the group bar" in changes
    assert "Carmel Foods" not in changes


def test_supervisor_runs_an_evaluation_now(world, club, client_for):
    client = client_for(club.supervisor)

    response = client.post(reverse("desk:club:evaluate"), follow=True)

    assert response.status_code == 200
    assert "Evaluation as of" in response.content.decode()
    assert AuditEntry.objects.filter(action="club.evaluated", actor=club.supervisor).exists()


def test_a_manager_may_not_run_an_evaluation(world, club, client_for):
    response = client_for(club.manager).post(reverse("desk:club:evaluate"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="club.evaluated", actor=club.manager).exists()


def test_supervisor_page_shows_surveys_meetings_and_portfolios(world, club, client_for):
    from voltdesk.keyaccounts.surveys import answer_survey

    answer_survey(club.survey.token, csat=5, nps=10)

    html = client_for(club.supervisor).get(reverse("desk:club:overview")).content.decode()

    assert "By account manager" in html and "By region" in html and "By month" in html
    assert "Dana Levi" in html and "Yossi Cohen" in html
    assert "5.00" in html and "100.0" in html  # CSAT average and NPS of the one answer


def test_reassignment_by_a_supervisor_moves_the_member(world, club, client_for):
    response = client_for(club.supervisor).post(
        reverse("desk:club:reassign"),
        {"customer": world.a.ref, "manager": club.yossi.pk, "reason": "Dana on leave"},
        follow=True,
    )

    assert response.status_code == 200
    assert current_manager(world.a) == club.yossi
    assert PortfolioAssignment.objects.filter(customer=world.a).count() == 2  # history kept
    assert "now looked after by Yossi Cohen" in response.content.decode()


def test_reassignment_by_a_manager_is_refused_and_changes_nothing(world, club, client_for):
    before = list(PortfolioAssignment.objects.values_list("pk", "customer", "manager", "end"))

    response = client_for(club.manager).post(
        reverse("desk:club:reassign"),
        {"customer": world.a.ref, "manager": club.yossi.pk, "reason": "mine now"},
    )

    assert response.status_code == 403
    assert current_manager(world.a) == club.dana
    assert list(PortfolioAssignment.objects.values_list("pk", "customer", "manager", "end")) == (
        before
    )


def test_reassigning_an_unknown_customer_says_so(world, club, client_for):
    response = client_for(club.supervisor).post(
        reverse("desk:club:reassign"),
        {"customer": "NO-SUCH", "manager": club.yossi.pk},
        follow=True,
    )

    assert "No club member has this customer number." in response.content.decode()


def test_customer_360_has_the_club_panel_with_explained_decisions(world, club, client_for):
    html = client_for(club.supervisor).get(reverse("desk:customer", args=[world.a.ref]))
    html = html.content.decode()

    assert 'id="club-panel"' in html
    assert "Dana Levi" in html
    assert "All its sites together reached the group bar" in html
    assert "so you joined the club" in html  # the plain-words explanation
    assert 'action="/desk/club/reassign/"' in html  # a supervisor may move the member


def test_customer_360_has_no_club_panel_for_an_agent(world, club, client_for):
    html = client_for(world.agent).get(reverse("desk:customer", args=[world.a.ref]))

    assert 'id="club-panel"' not in html.content.decode()


# The manager's workspace


def test_my_members_shows_only_my_portfolio(world, club, client_for):
    html = client_for(club.manager).get(reverse("desk:club:my_members")).content.decode()

    members = html[html.index('id="my-members"') : html.index('id="tasks-title"')]
    assert world.a.name in members
    assert world.b.name not in members  # Yossi's member
    assert "% of 5,000,000 kWh" in members  # two sites: the group bar
    assert "+0.0%" in members  # the world's rollups are flat year on year
    assert "Send Acme the tariff comparison" in html
    assert reverse("desk:club:meeting", args=[club.meeting.pk]) in html


def test_my_members_counts_each_members_open_work_orders(world, club, client_for):
    from voltdesk.workorders.services import open_work_order, transition

    open_work_order(channel="hotline", order_type="fault", customer=world.a)
    open_work_order(channel="web", order_type="complaint", customer=world.a)
    done = open_work_order(channel="web", order_type="consultation", customer=world.a).order
    for action in ["accept", "start", "resolve", "close"]:
        done = transition(done, action)

    html = client_for(club.manager).get(reverse("desk:club:my_members")).content.decode()

    assert 'data-open-orders="2"' in html


def test_the_other_manager_sees_the_other_portfolio(world, club, client_for):
    html = client_for(club.other_manager).get(reverse("desk:club:my_members")).content.decode()

    members = html[html.index('id="my-members"') : html.index('id="tasks-title"')]
    assert world.b.name in members and world.a.name not in members


def test_a_supervisor_without_a_portfolio_is_told_so(world, club, client_for):
    response = client_for(club.supervisor).get(reverse("desk:club:my_members"))

    assert response.status_code == 200
    assert "You have no portfolio" in response.content.decode()


def test_marking_a_task_done(world, club, client_for):
    response = client_for(club.manager).post(reverse("desk:club:task_done", args=[club.task.pk]))

    assert response.status_code == 302
    assert Task.objects.get(pk=club.task.pk).done_at is not None


def test_another_managers_task_cannot_be_marked_done(world, club, client_for):
    response = client_for(club.other_manager).post(
        reverse("desk:club:task_done", args=[club.task.pk])
    )

    assert response.status_code == 404
    assert Task.objects.get(pk=club.task.pk).done_at is None


# Meetings


def _to_schedule(world, club):
    """A's meeting moved back to "to schedule" is awkward; use B's (Yossi's) fresh one."""
    return Meeting.objects.get(customer=world.b, status=MeetingStatus.TO_SCHEDULE)


def test_schedule_a_meeting_then_download_its_ics(world, club, client_for):
    meeting = _to_schedule(world, club)
    client = client_for(club.other_manager)
    when = (local_today() + dt.timedelta(days=20)).isoformat() + "T09:30"

    response = client.post(
        reverse("desk:club:meeting", args=[meeting.pk]),
        {"action": "schedule", "at": when, "location": "Bakery, 2 Market St"},
    )

    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    local = timezone.localtime(meeting.scheduled_at, utility_zone())
    assert (local.hour, local.minute) == (9, 30)  # typed in the utility's time zone
    ics = client.get(reverse("desk:club:meeting_ics", args=[meeting.pk]))
    assert ics.status_code == 200
    assert ics["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == meeting.scheduled_at
    assert str(event["location"]) == "Bakery, 2 Market St"


def test_scheduling_errors_are_shown_next_to_the_field(world, club, client_for):
    meeting = _to_schedule(world, club)
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat() + "T09:30"

    response = client_for(club.other_manager).post(
        reverse("desk:club:meeting", args=[meeting.pk]),
        {"action": "schedule", "at": yesterday, "location": ""},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_location-error"' in html
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.TO_SCHEDULE


def test_past_time_is_refused_by_the_service_next_to_the_time(world, club, client_for):
    meeting = _to_schedule(world, club)
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat() + "T09:30"

    response = client_for(club.other_manager).post(
        reverse("desk:club:meeting", args=[meeting.pk]),
        {"action": "schedule", "at": yesterday, "location": "Bakery"},
    )

    html = response.content.decode()
    assert 'id="id_at-error"' in html and "Choose a time in the future." in html
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.TO_SCHEDULE


def test_record_minutes_and_outcomes(world, club, client_for):
    client = client_for(club.manager)
    url = reverse("desk:club:meeting", args=[club.meeting.pk])

    response = client.post(
        url,
        {"action": "record", "minutes": "Reviewed the year.", "outcomes": "Move to TOU tariff."},
    )

    assert response.status_code == 302
    meeting = Meeting.objects.get(pk=club.meeting.pk)
    assert meeting.status == MeetingStatus.HELD
    assert (meeting.minutes, meeting.outcomes) == ("Reviewed the year.", "Move to TOU tariff.")
    assert SurveyResponse.objects.filter(meeting=meeting).exists()  # the survey follows
    html = client.get(url).content.decode()
    assert "Reviewed the year." in html and 'id="record-form"' not in html


def test_recording_without_minutes_names_the_field(world, club, client_for):
    response = client_for(club.manager).post(
        reverse("desk:club:meeting", args=[club.meeting.pk]),
        {"action": "record", "minutes": "", "outcomes": ""},
    )

    assert response.status_code == 200
    assert 'id="id_minutes-error"' in response.content.decode()
    assert Meeting.objects.get(pk=club.meeting.pk).status == MeetingStatus.SCHEDULED


def test_another_manager_may_look_but_not_act_on_a_meeting(world, club, client_for):
    client = client_for(club.other_manager)
    url = reverse("desk:club:meeting", args=[club.meeting.pk])

    assert 'id="record-form"' not in client.get(url).content.decode()
    response = client.post(url, {"action": "record", "minutes": "Not mine."})

    assert response.status_code == 403
    assert Meeting.objects.get(pk=club.meeting.pk).status == MeetingStatus.SCHEDULED


# The portal


def test_portal_club_page_shows_the_customers_own_history_explained(world, club, client_for):
    response = client_for(world.a_user).get(reverse("portal:club"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "You have been a member of the business club since" in html
    assert "Your sites together used" in html and "so you joined the club" in html
    assert "Dana Levi" in html and "dana@utility.example" in html
    assert reverse("portal:meeting_ics", args=[club.meeting.pk]) in html
    assert reverse("portal:survey", args=[club.survey.token]) in html
    assert world.b.name not in html and "Yossi" not in html


def test_portal_club_page_of_a_former_member(world, club_changes, client_for):
    html = client_for(world.b_user).get(reverse("portal:club")).content.decode()

    assert "You are no longer a member" in html
    assert "so you left the club" in html and "so you joined the club" in html
    assert world.a.name not in html and "Carmel" not in html


def test_portal_meeting_invitation_is_the_customers_own(world, club, client_for):
    url = reverse("portal:meeting_ics", args=[club.meeting.pk])

    mine = client_for(world.a_user).get(url)
    theirs = client_for(world.b_user).get(url)

    assert mine.status_code == 200
    assert Calendar.from_ical(mine.content).walk("VEVENT")
    assert theirs.status_code == 404


def test_residential_customers_have_no_club_page(world, make_customer, make_user, client_for):
    home = make_customer(name="Home", kind="residential")
    user = make_user(roles.CUSTOMER, customer=home)

    assert client_for(user).get(reverse("portal:club")).status_code == 404


# The survey behind a link


def test_survey_is_answered_anonymously_with_its_token(world, club, client_for):
    url = reverse("portal:survey", args=[club.survey.token])
    client = client_for(None)

    page = client.get(url)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    html = page.content.decode()
    assert 'name="csat"' in html and 'type="radio"' in html and 'name="nps"' in html
    response = client.post(url, {"csat": "4", "nps": "9", "comment": "Quick and kind."})

    assert response.status_code == 200
    assert 'id="survey-thanks"' in response.content.decode()
    survey = SurveyResponse.objects.get(pk=club.survey.pk)
    assert (survey.csat, survey.nps, survey.comment) == (4, 9, "Quick and kind.")


def test_unknown_survey_token_is_not_found(world, club, client_for):
    response = client_for(None).get(reverse("portal:survey", args=["not-a-real-token"]))

    assert response.status_code == 404


def test_survey_validation_errors_are_named_next_to_their_fields(world, club, client_for):
    url = reverse("portal:survey", args=[club.survey.token])

    response = client_for(None).post(url, {"csat": "", "nps": "11"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error-csat"' in html and "Choose how satisfied you are" in html
    assert 'id="error-nps"' in html
    assert SurveyResponse.objects.get(pk=club.survey.pk).answered_at is None


def test_a_survey_is_answered_once(world, club, client_for):
    url = reverse("portal:survey", args=[club.survey.token])
    client = client_for(None)
    client.post(url, {"csat": "5", "nps": "10"})

    again = client.post(url, {"csat": "1", "nps": "0", "comment": "changed my mind"})

    assert again.status_code == 409
    assert 'id="survey-answered"' in again.content.decode()
    survey = SurveyResponse.objects.get(pk=club.survey.pk)
    assert (survey.csat, survey.nps, survey.comment) == (5, 10, "")
    assert not Task.objects.filter(kind=TaskKind.RECOVERY).exists()  # no low score taken
    assert 'id="survey-answered"' in client.get(url).content.decode()


def test_a_low_score_opens_a_recovery_task_for_the_manager(world, club, client_for):
    client_for(None).post(
        reverse("portal:survey", args=[club.survey.token]), {"csat": "1", "nps": "2"}
    )

    html = client_for(club.manager).get(reverse("desk:club:my_members")).content.decode()
    assert "Recover a dissatisfied customer" in html


def test_survey_speaks_the_customers_language_when_none_was_chosen(world, club, client_for):
    world.a.language = "he"
    world.a.save()

    html = client_for(None).get(reverse("portal:survey", args=[club.survey.token]))

    assert '<html lang="he" dir="rtl">' in html.content.decode()
