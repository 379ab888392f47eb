"""A fault from call to closed in the browser: an agent takes the call, a dispatcher works it.

And a customer reports a fault from a phone, right to left.
"""

import pytest

from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Site
from voltdesk.workorders.models import Crew, WorkOrder

pytestmark = pytest.mark.slow

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def log_in(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()


def switch_language(page, code):
    page.click(f"button[value='{code}']")
    page.wait_for_load_state()


@pytest.fixture
def grid(transactional_db, utility, make_customer, make_user):
    area = Area.objects.create(
        region=Region.objects.create(name="North"), name="Haifa", kind="urban"
    )
    feeder = Feeder.objects.create(area=area, name="HF-1")
    customer = make_customer(name="Carmel Bakery", phone="+97248123456")
    Site.objects.filter(customer=customer).update(area=area, feeder=feeder, address="3 Hanamal")
    crew = Crew.objects.create(name="Crew Haifa 1", area=area)
    akko = Area.objects.create(region=area.region, name="Akko")
    Crew.objects.create(name="Crew Akko 1", area=akko)  # never offered for Haifa
    make_user(roles.AGENT, username="noa")
    make_user(roles.DISPATCHER, username="eli")
    make_user(roles.CUSTOMER, username="carmel", customer=customer)
    return {"customer": customer, "crew": crew, "site": customer.sites.get()}


def test_an_agent_takes_a_fault_call_and_a_dispatcher_works_it_to_closed(
    grid, live_server, page_factory
):
    base = live_server.url
    agent = page_factory()
    log_in(agent, base, "noa", "pw-noa")
    switch_language(agent, "he")
    assert agent.locator("html").get_attribute("dir") == "rtl"
    assert agent.locator("html").get_attribute("lang") == "he"

    # The call: the number typed, Enter; htmx brings the caller card and fills the form.
    agent.click("a[href='/desk/orders/new/']")
    agent.wait_for_load_state()
    assert agent.evaluate("document.activeElement.id") == "find"
    agent.keyboard.type("04-812-3456")
    agent.keyboard.press("Enter")
    agent.wait_for_selector("#caller-card")
    assert "Carmel Bakery" in agent.locator("#caller-card").inner_text()
    assert "find=" in agent.url  # the lookup is in the address: a reload keeps it
    assert agent.input_value("#id_customer_ref") == grid["customer"].ref
    assert agent.input_value("#id_site_ref") == grid["site"].ref
    assert agent.input_value("#id_caller_phone") == "+97248123456"
    # Keyboard only: the type (fault by default) has the focus; its subtypes only.
    agent.wait_for_function("document.activeElement.id === 'id_order_type'")
    assert agent.input_value("#id_order_type") == "fault"
    assert agent.input_value("#id_channel") == "hotline"
    subtypes = agent.locator("#id_subtype option").evaluate_all("os => os.map(o => o.value)")
    assert subtypes == ["", "power_out", "partial_power", "line_down", "meter_fault"]
    agent.keyboard.press("Tab")
    agent.select_option("#id_subtype", "power_out")
    agent.fill("#id_description", "אין חשמל במאפייה")
    agent.press("#id_description", "Control+Enter")
    agent.wait_for_selector("#order-status")
    order = WorkOrder.objects.get()
    assert agent.locator("#order-status").get_attribute("data-status") == "new"
    assert (order.customer, order.feeder.name, order.subtype) == (
        grid["customer"],
        "HF-1",
        "power_out",
    )
    assert agent.locator("#deadlines [data-sla]").count() >= 1

    # The dispatcher sends the crew of the area from the board, then power is back.
    dispatcher = page_factory()
    log_in(dispatcher, base, "eli", "pw-eli")
    dispatcher.click("a[href='/desk/orders/dispatch/']")
    dispatcher.wait_for_load_state()
    row = f"#repairs tr[data-order='{order.pk}']"
    crews = dispatcher.locator(f"{row} select[name=crew] option").all_inner_texts()
    assert crews == ["Crew Haifa 1"]  # crews of the order's area only
    dispatcher.click(f"{row} button[value='dispatch']")
    dispatcher.wait_for_load_state()
    assert dispatcher.url.endswith("/desk/orders/dispatch/")
    order.refresh_from_db()
    assert (order.status, order.crew) == ("dispatched", grid["crew"])
    dispatcher.click(f"{row} button[value='start']")  # the crew is on site
    dispatcher.wait_for_load_state()
    outage = f"#outages li[data-incident='{order.incident_id}']"
    dispatcher.fill(f"{outage} input[name=cause]", "Blown fuse on HF-1")
    dispatcher.click(f"{outage} button[type=submit]")
    dispatcher.wait_for_load_state()
    assert dispatcher.locator(outage).count() == 0
    order.refresh_from_db()
    assert order.status in ("resolved", "follow_up")

    # Back at the desk the agent closes it; the history shows every step.
    agent.goto(f"{base}/desk/orders/{order.pk}/")
    assert agent.locator("#action-form button[value='close']").count() == 1
    assert agent.locator("#action-form button[value='accept']").count() == 0  # legal only
    agent.click("#action-form button[value='close']")
    agent.wait_for_load_state()
    assert agent.locator("#order-status").get_attribute("data-status") == "closed"
    steps = agent.locator("#history li").evaluate_all("ls => ls.map(l => l.dataset.action)")
    assert steps[0] == "create" and steps[-1] == "close"
    assert {"accept", "dispatch", "start", "resolve"} <= set(steps)
    assert agent.locator("html").get_attribute("lang") == "he"


def test_a_customer_reports_a_fault_from_a_phone_right_to_left(grid, live_server, page_factory):
    base = live_server.url
    phone = page_factory(width=390, height=844)
    log_in(phone, base, "carmel", "pw-carmel")
    switch_language(phone, "he")
    assert phone.locator("html").get_attribute("dir") == "rtl"

    phone.click(".navbar-toggler")
    phone.click("#portal-nav a[href='/portal/orders/']")
    phone.wait_for_load_state()
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    phone.click("a[href='#new-request']")
    phone.select_option("#id_order_type", "fault")
    phone.select_option("#id_site_ref", grid["site"].ref)
    phone.fill("#id_description", "אין חשמל")
    assert phone.locator("#portal-order-form button[type=submit]").is_visible()
    phone.click("#portal-order-form button[type=submit]")
    phone.wait_for_selector("#order-status")

    order = WorkOrder.objects.get()
    assert (order.customer, order.channel, order.site) == (
        grid["customer"],
        "web",
        grid["site"],
    )
    assert phone.locator("#order-status").get_attribute("data-status") == "new"
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    phone.fill("#id_body", "המאפייה סגורה עד שיחזור החשמל")
    phone.click("#comment-form button[type=submit]")
    phone.wait_for_load_state()
    assert "המאפייה סגורה" in phone.locator("#comments").inner_text()
    phone.goto(f"{base}/portal/orders/")
    assert phone.locator(f"#my-orders tr[data-order='{order.pk}']").is_visible()
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
