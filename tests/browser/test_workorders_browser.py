"""A fault from call to closed in the browser: an agent takes the call, a dispatcher works it."""

import pytest

from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Site
from voltdesk.workorders.models import Crew, WorkOrder

pytestmark = pytest.mark.slow


def log_in(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def grid(transactional_db, utility, make_customer, make_user):
    area = Area.objects.create(
        region=Region.objects.create(name="North"), name="Haifa", kind="urban"
    )
    feeder = Feeder.objects.create(area=area, name="HF-1")
    customer = make_customer(name="Carmel Bakery", phone="+97248123456")
    Site.objects.filter(customer=customer).update(area=area, feeder=feeder)
    crew = Crew.objects.create(name="Crew Haifa 1", area=area)
    make_user(roles.AGENT, username="noa")
    make_user(roles.DISPATCHER, username="eli")
    return {"customer": customer, "crew": crew}


def test_an_agent_takes_a_fault_call_and_a_dispatcher_works_it_to_closed_in_hebrew(
    grid, live_server, page_factory
):
    base = live_server.url
    agent = page_factory()
    log_in(agent, base, "noa", "pw-noa")
    agent.click("button[value='he']")
    agent.wait_for_load_state()
    assert agent.locator("html").get_attribute("dir") == "rtl"

    agent.click("a[href='/desk/orders/new/']")
    agent.fill("#find", "04-812-3456")
    agent.press("#find", "Enter")
    agent.wait_for_load_state()
    assert "Carmel Bakery" in agent.locator("#caller-card").inner_text()
    agent.select_option("#id_order_type", "fault")
    agent.fill("#id_description", "אין חשמל במאפייה")
    agent.press("#id_description", "Control+Enter")
    agent.wait_for_load_state()
    order = WorkOrder.objects.get()
    assert agent.locator("#order-status").get_attribute("data-status") == "new"
    assert (order.customer, order.feeder.name) == (grid["customer"], "HF-1")

    dispatcher = page_factory()
    log_in(dispatcher, base, "eli", "pw-eli")
    dispatcher.click("a[href='/desk/orders/dispatch/']")
    dispatcher.wait_for_load_state()
    dispatcher.click("#repairs button[value='dispatch']")
    dispatcher.wait_for_load_state()
    assert dispatcher.locator("#order-status").get_attribute("data-status") == "dispatched"
    dispatcher.click("#action-form button[value='start']")
    dispatcher.wait_for_load_state()
    dispatcher.click("a[href='/desk/orders/dispatch/']")
    dispatcher.wait_for_load_state()
    dispatcher.fill("#outages input[name=cause]", "Blown fuse on HF-1")
    dispatcher.click("#outages button[type=submit]")
    dispatcher.wait_for_load_state()
    order.refresh_from_db()
    assert order.status in ("resolved", "follow_up")

    # Back at the desk the agent closes it after the follow-up.
    agent.goto(f"{base}/desk/orders/{order.pk}/")
    agent.click("#action-form button[value='close']")
    agent.wait_for_load_state()
    assert agent.locator("#order-status").get_attribute("data-status") == "closed"
    assert agent.locator("html").get_attribute("lang") == "he"
