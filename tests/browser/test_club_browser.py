"""The business club in a browser: a manager schedules a meeting, a customer answers a survey."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import translation
from icalendar import Calendar

from tests.pages.test_pages_club import seed_club
from voltdesk.keyaccounts.choices import MeetingStatus
from voltdesk.keyaccounts.models import Meeting, SurveyResponse
from voltdesk.keyaccounts.tasks_service import local_today

pytestmark = pytest.mark.slow


@pytest.fixture
def world(transactional_db, make_customer):
    """Acme (two sites) and Blue Bakery (one site), as the page tests' world has them."""
    a = make_customer(name="Acme Industries", sites=2)
    b = make_customer(name="Blue Bakery", sites=1)
    return SimpleNamespace(a=a, b=b, b_site=b.sites.get())


@pytest.fixture
def club(world, make_user, make_customer):
    return seed_club(world, make_user, make_customer)


@pytest.fixture
def club_changes(world, make_user, make_customer):
    return seed_club(world, make_user, make_customer, leave=True)


def log_in(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()


def test_a_manager_schedules_the_annual_meeting_in_chinese(club, world, live_server, page_factory):
    meeting = Meeting.objects.get(customer=world.b, status=MeetingStatus.TO_SCHEDULE)
    page = page_factory()
    log_in(page, live_server.url, "yossi", "pw-yossi")
    page.click("button[value='zh-hans']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    page.click("a[href='/desk/club/mine/']")
    page.wait_for_load_state()
    assert world.b.name in page.locator("#my-members").inner_text()
    page.click(f"#my-members a[href='/desk/club/meetings/{meeting.pk}/']")
    page.wait_for_load_state()
    day = local_today() + dt.timedelta(days=14)
    page.fill("#id_at", f"{day.isoformat()}T11:00")
    page.fill("#id_location", "Blue Bakery, 2 Market St")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_load_state()

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    with translation.override("zh-hans"):
        assert page.locator("#meeting-status").inner_text() == meeting.get_status_display()
    assert page.locator("#meeting-status").inner_text() == "已安排"
    ics = page.request.get(live_server.url + page.locator("#ics-link").get_attribute("href"))
    assert ics.ok
    event = Calendar.from_ical(ics.body()).walk("VEVENT")[0]
    assert str(event["location"]) == "Blue Bakery, 2 Market St"


def test_a_customer_answers_a_survey_in_hebrew_on_a_phone(club, world, live_server, page_factory):
    page = page_factory(width=390, height=844)
    page.goto(f"{live_server.url}/portal/survey/{club.survey.token}/")
    page.click("button[value='he']")
    page.wait_for_load_state()

    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == "he"
    assert page.locator("link[href*='bootstrap.rtl']").count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # Sent without a score: the error stands next to the question.
    page.click("#survey-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#error-csat").is_visible()
    page.check("input[name=csat][value='4']")
    page.check("input[name=nps][value='9']")
    page.fill("textarea[name=comment]", "שירות מצוין")
    page.click("#survey-form button[type=submit]")
    page.wait_for_load_state()

    assert page.locator("#survey-thanks").is_visible()
    assert page.locator("html").get_attribute("dir") == "rtl"
    survey = SurveyResponse.objects.get(pk=club.survey.pk)
    assert (survey.csat, survey.nps, survey.comment) == (4, 9, "שירות מצוין")


def test_a_supervisor_sees_who_joined_and_left_this_month_in_english(
    club_changes, world, live_server, page_factory
):
    page = page_factory()
    log_in(page, live_server.url, "sara-supervisor", "pw-sara-supervisor")
    page.click("button[value='en']")
    page.wait_for_load_state()
    page.click("a[href='/desk/club/']")
    page.wait_for_load_state()

    rows = page.locator("#changes tbody tr")
    assert rows.count() == 2
    by_name = {
        name: rows.filter(has_text=name).inner_text()
        for name in (club_changes.carmel.name, world.b.name)
    }
    assert "Joined" in by_name["Carmel Foods"]
    assert "Its one site reached the single-site bar" in by_name["Carmel Foods"]
    assert "1,500,000" in by_name["Carmel Foods"]
    assert "Left" in by_name["Blue Bakery"]
    assert "Its consumption fell below the bar" in by_name["Blue Bakery"]

    # The leaver's 360 page tells the supervisor why, in plain words.
    page.click(f"#changes a[href='/desk/customers/{world.b.ref}/']")
    page.wait_for_load_state()
    assert "so you left the club" in page.locator("#club-panel").inner_text()
