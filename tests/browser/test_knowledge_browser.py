"""An agent types what the caller says; answers appear beside the form; one is used."""

import pytest

from tests.knowledge.test_search import HIGH_BILL, METER_TEST
from voltdesk.core import roles
from voltdesk.knowledge import search, services
from voltdesk.knowledge.models import Article

pytestmark = pytest.mark.slow


@pytest.fixture
def knowledge(transactional_db, utility, make_user):
    search.reset_index()
    services.load_articles([HIGH_BILL, METER_TEST])
    make_user(roles.AGENT, username="noa")
    yield
    search.reset_index()


def test_answers_appear_while_the_agent_types_and_one_is_used(knowledge, live_server, page_factory):
    page = page_factory(width=1600)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "noa")
    page.fill("input[name=password]", "pw-noa")
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/desk/orders/new/")

    page.select_option("#id_order_type", "consultation")
    page.click("#id_description")
    page.keyboard.type("my electricity bill is too hi", delay=20)

    first = page.locator("#knowledge-answers li").first
    first.wait_for(timeout=5000)
    assert first.get_attribute("id") == "suggestion-bill-high"
    assert "Why is my electricity bill so high?" in first.inner_text()

    first.get_by_role("button", name="Use this answer").click()
    page.locator("#used-bill-high").wait_for(timeout=5000)
    assert Article.objects.get(key="bill-high").usage_count == 1
    assert page.url.endswith("/desk/orders/new/")  # the order being taken stays on screen
