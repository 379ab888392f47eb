"""The work-order pages as the desk and customers use them."""

import pytest
from django.urls import reverse

from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Site
from voltdesk.notifications.models import Message
from voltdesk.workorders.models import Crew, WorkOrder
from voltdesk.workorders.services import open_work_order


@pytest.fixture
def grid(world):
    area = Area.objects.create(
        region=Region.objects.create(name="North"), name="Haifa", kind="urban"
    )
    feeder = Feeder.objects.create(area=area, name="HF-1")
    Site.objects.filter(customer__in=[world.a, world.b]).update(area=area, feeder=feeder)
    crew = Crew.objects.create(name="Crew Haifa 1", area=area)
    world.a_site.refresh_from_db()
    world.b_site.refresh_from_db()
    return {"area": area, "feeder": feeder, "crew": crew}


def test_intake_finds_the_caller_by_phone_and_warns_of_a_known_outage(world, grid, client_for):
    open_work_order(channel="hotline", order_type="fault", site=world.b_site)  # an outage
    client = client_for(world.agent)

    html = client.get(reverse("desk:orders:new"), {"find": "03-555-1111"}).content.decode()

    assert "Acme Industries" in html
    assert 'id="known-outage"' in html and "HF-1" in html
    assert 'value="+97235551111"' in html  # the caller's number carried into the form


def test_an_order_opened_from_the_desk_goes_to_its_page(world, grid, client_for):
    client = client_for(world.agent)
    response = client.post(
        reverse("desk:orders:new"),
        {
            "order_type": "fault",
            "channel": "hotline",
            "customer_ref": world.a.ref,
            "site_ref": world.a_site.ref,
            "description": "Sparks from the pole",
        },
    )
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("desk:orders:detail", args=[order.pk])
    page = client.get(response.url).content.decode()
    assert "Sparks from the pole" in page
    assert 'value="accept"' in page and 'value="close"' not in page  # legal actions only


def test_bad_intake_is_shown_next_to_the_field(world, grid, client_for):
    response = client_for(world.agent).post(
        reverse("desk:orders:new"),
        {
            "order_type": "fault",
            "channel": "hotline",
            "caller_phone": "12",
            "site_ref": "NO-SUCH",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "No site has this number." in html
    assert WorkOrder.objects.count() == 0


def test_an_illegal_action_posted_by_hand_is_refused_with_a_message(world, grid, client_for):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    client = client_for(world.agent)
    response = client.post(
        reverse("desk:orders:detail", args=[order.pk]), {"action": "close"}, follow=True
    )
    assert "cannot be given the action" in response.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).status == "new"


def test_a_dispatcher_sends_a_crew_and_power_back_closes_the_outage(
    world, grid, client_for, make_user
):
    dispatcher = make_user(roles.DISPATCHER, username="disp")
    first = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    second = open_work_order(channel="hotline", order_type="fault", site=world.b_site).order
    client = client_for(dispatcher)
    board = client.get(reverse("desk:orders:dispatch")).content.decode()
    assert first.number in board and "Crew Haifa 1" in board

    client.post(
        reverse("desk:orders:detail", args=[first.pk]),
        {"action": "dispatch", "crew": grid["crew"].pk},
    )
    first.refresh_from_db()
    assert (first.status, first.crew) == ("dispatched", grid["crew"])

    client.post(reverse("desk:orders:power_back", args=[first.incident_id]), {"cause": "Fuse"})
    for order in (first, second):
        order.refresh_from_db()
        assert order.status in ("resolved", "follow_up")
    assert Message.objects.filter(template="power_back").count() == 2


def test_an_agent_may_not_declare_power_back(world, grid, client_for):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    response = client_for(world.agent).post(
        reverse("desk:orders:power_back", args=[order.incident_id])
    )
    assert response.status_code == 403


def test_a_customer_reports_a_fault_and_follows_it_without_staff_notes(world, grid, client_for):
    from voltdesk.workorders.services import add_comment

    client = client_for(world.a_user)
    response = client.post(
        reverse("portal:orders"),
        {
            "order_type": "fault",
            "site_ref": world.a_site.ref,
            "description": "No power",
        },
    )
    order = WorkOrder.objects.get()
    assert response.url == reverse("portal:order", args=[order.pk])
    assert (order.customer, order.channel) == (world.a, "web")
    add_comment(order, body="Customer is rude", internal=True)
    add_comment(order, body="A crew is on its way")
    page = client.get(response.url).content.decode()
    assert "A crew is on its way" in page and "Customer is rude" not in page
    client.post(response.url, {"body": "Thanks!"})
    assert order.comments.filter(body="Thanks!", internal=False).exists()
    # Another customer's site cannot be chosen.
    bad = client.post(
        reverse("portal:orders"),
        {
            "order_type": "fault",
            "site_ref": world.b_site.ref,
            "description": "x",
        },
    )
    assert bad.status_code == 200 and WorkOrder.objects.count() == 1


def test_a_customer_never_sees_another_customers_order(world, grid, client_for):
    theirs = open_work_order(channel="hotline", order_type="complaint", customer=world.b).order
    client = client_for(world.a_user)
    assert client.get(reverse("portal:order", args=[theirs.pk])).status_code == 404
    assert theirs.number not in client.get(reverse("portal:orders")).content.decode()


def test_the_customer_360_lists_open_orders_first(world, grid, client_for):
    from voltdesk.workorders.services import transition

    old = open_work_order(channel="web", order_type="consultation", customer=world.a).order
    for action in ["accept", "start", "resolve", "close"]:
        old = transition(old, action)
    fresh = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    open_work_order(channel="hotline", order_type="fault", site=world.b_site)  # B's: not here

    html = client_for(world.agent).get(reverse("desk:customer", args=[world.a.ref])).content
    block = html.decode().split('id="customer-orders"')[1]
    assert block.index(fresh.number) < block.index(old.number)
    assert WorkOrder.objects.filter(customer=world.b).get().number not in block
    assert f"?find={world.a.ref}" in block
