"""A person at a browser: log in, land in the right place, switch language."""

import pytest

from voltdesk.demo.services import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(transactional_db):
    seed_demo("il", 30, 5)


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()


def test_an_agent_logs_in_to_the_desk_and_switches_to_hebrew(demo, live_server, page_factory):
    page = page_factory()
    log_in(page, live_server.url, "agent")
    assert page.url.endswith("/desk/")

    page.click("button[value='he']")
    page.wait_for_load_state()

    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == "he"
    assert page.locator("link[href*='bootstrap.rtl']").count() == 1


def test_a_household_logs_in_on_a_phone_and_sees_its_consumption(demo, live_server, page_factory):
    page = page_factory(width=390, height=844)
    log_in(page, live_server.url, "home")
    assert page.url.endswith("/portal/")
    # The chart is drawn (ECharts renders into a canvas) and nothing overflows sideways.
    page.wait_for_selector("canvas")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_a_wrong_password_is_refused_with_a_message(demo, live_server, page_factory):
    page = page_factory()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "not-the-password")
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/login/")
    assert page.locator(".alert, .errorlist").count() >= 1
