"""The fault line's routing route: POST /api/v1/calls/route (issue 3, item 9)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from voltdesk.api.services import issue_token
from voltdesk.api.urls import api
from voltdesk.core import roles
from voltdesk.customers.models import Contact, Customer, Site
from voltdesk.keyaccounts.models import AccountManager, Membership, PortfolioAssignment
from voltdesk.keyaccounts.routing import route_call

URL = "/api/v1/calls/route"
# Israeli numbers as dialled locally and as stored (E.164).
TLV_LOCAL, TLV = "03-5551234", "+97235551234"
HAIFA_LOCAL, HAIFA = "04-8123456", "+97248123456"
MOBILE = "+972525551234"


def join_club(customer, status="member"):
    return Membership.objects.create(
        customer=customer,
        status=status,
        since=dt.date(2024, 1, 1),
        annual_kwh=Decimal("1200000"),
        site_count=customer.sites.count(),
    )


def give_manager(customer, username="dana"):
    user = User.objects.create_user(
        username, first_name="Dana", last_name="Levi", email=f"{username}@example.com"
    )
    manager = AccountManager.objects.create(user=user, phone="+972501112233")
    PortfolioAssignment.objects.create(customer=customer, manager=manager, start=timezone.now())
    return manager


@pytest.fixture
def post(client, world):
    """POST a routing request as one of the world's actors (``None``: anonymous)."""

    def send(actor, body, raw=False):
        headers = {"Authorization": f"Bearer {world.keys[actor]}"} if actor else {}
        data = body if raw else json.dumps(body)
        return client.post(URL, data=data, content_type="application/json", headers=headers)

    return send


@pytest.fixture
def member(world):
    """A (Alpha Plastics) is a club member with a manager, reachable at TLV."""
    world.a.phone = TLV
    world.a.language = "he"
    world.a.save()
    join_club(world.a)
    give_manager(world.a)
    return world.a


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def errors_of(response):
    return {e["field"]: e for e in response.json().get("errors", [])}


# Who is calling -------------------------------------------------------------------


def test_a_members_number_goes_to_the_vip_queue_with_its_manager(post, world, member):
    body = ok(post("agent", {"caller": TLV}))

    assert body == {
        "caller": TLV,
        "queue": "vip",
        "priority": 1,
        "matched_by": "customer_phone",
        "club_member": True,
        "customer": {
            "ref": world.a.ref,
            "name": "Alpha Plastics",
            "kind": "business",
            "language": "he",
        },
        "account_manager": {
            "name": "Dana Levi",
            "phone": "+972501112233",
            "email": "dana@example.com",
        },
        "sites": [world.site_a.ref],
        "critical_sites": [],
        "open_work_orders": [
            {
                "number": world.orders["A"].number,  # the world's open question
                "type": "consultation",
                "status": "new",
                "created_at": world.orders["A"].created_at.isoformat(),
            }
        ],
        "current_events": [],
    }


def test_the_answer_lists_open_work_orders_and_the_outage_at_the_customers_sites(
    post, world, member
):
    from voltdesk.core.models import Area, Feeder, Region
    from voltdesk.customers.models import Site
    from voltdesk.workorders.services import open_work_order, transition

    area = Area.objects.create(region=Region.objects.create(name="Centre"), name="TA", kind="urban")
    feeder = Feeder.objects.create(area=area, name="TA-7")
    Site.objects.filter(pk=world.site_a.pk).update(feeder=feeder, area=area)
    world.site_a.refresh_from_db()
    fault = open_work_order(channel="hotline", order_type="fault", site=world.site_a).order
    done = open_work_order(channel="web", order_type="consultation", customer=world.a).order
    for action in ["accept", "start", "resolve", "close"]:
        done = transition(done, action)

    body = ok(post("agent", {"caller": TLV}))

    assert body["open_work_orders"] == [
        {
            "number": fault.number,
            "type": "fault",
            "status": "new",
            "created_at": fault.created_at.isoformat(),
        },
        {
            "number": world.orders["A"].number,
            "type": "consultation",
            "status": "new",
            "created_at": world.orders["A"].created_at.isoformat(),
        },
    ]
    assert body["current_events"] == [
        {
            "kind": "outage",
            "id": fault.incident_id,
            "feeder": "TA-7",
            "area": "TA",
            "since": fault.incident.opened_at.isoformat(),
        }
    ]


def test_a_non_members_number_goes_to_the_general_queue(post, world):
    world.b.phone = HAIFA
    world.b.save()

    body = ok(post("agent", {"caller": HAIFA}))

    assert body["queue"] == "general"
    assert body["priority"] == 0
    assert body["club_member"] is False
    assert body["account_manager"] is None
    assert body["customer"]["ref"] == world.b.ref
    assert body["customer"]["language"] == "he"  # none of its own: the utility's
    assert body["matched_by"] == "customer_phone"
    assert set(body["sites"]) == {world.site_b.ref, world.site_x.ref}


def test_a_former_member_goes_to_the_general_queue(post, world):
    world.a.phone = TLV
    world.a.save()
    join_club(world.a, status="former")

    body = ok(post("agent", {"caller": TLV}))

    assert (body["queue"], body["club_member"], body["account_manager"]) == ("general", False, None)


def test_an_unknown_caller_is_not_an_error_but_general(post, world, member):
    body = ok(post("agent", {"caller": HAIFA_LOCAL}))

    assert body["queue"] == "general"
    assert body["priority"] == 0
    assert body["customer"] is None
    assert body["account_manager"] is None
    assert body["matched_by"] == "none"
    assert body["sites"] == []
    assert body["caller"] == HAIFA


def test_a_contacts_number_identifies_its_customer(post, world, member):
    Contact.objects.create(customer=world.a, name="Night guard", phone=MOBILE)

    body = ok(post("agent", {"caller": "052-555-1234"}))

    assert body["matched_by"] == "contact_phone"
    assert body["customer"]["ref"] == world.a.ref
    assert body["queue"] == "vip"


def test_a_customers_own_number_wins_over_a_contacts(post, world, member):
    world.b.phone = MOBILE
    world.b.save()
    Contact.objects.create(customer=world.a, name="Night guard", phone=MOBILE)

    body = ok(post("agent", {"caller": MOBILE}))

    assert (body["matched_by"], body["customer"]["ref"]) == ("customer_phone", world.b.ref)


@pytest.mark.parametrize("dialled", [TLV_LOCAL, "035551234", "+972 3-555-1234", TLV])
def test_a_number_as_dialled_locally_matches_the_stored_e164(post, member, dialled):
    body = ok(post("agent", {"caller": dialled}))

    assert body["caller"] == TLV
    assert body["queue"] == "vip"


def test_a_shared_number_prefers_a_club_member_then_the_newest(post, world, make_customer):
    world.a.phone = world.b.phone = TLV
    world.a.save()
    world.b.save()
    newest = make_customer(name="Gamma Textiles", phone=TLV)
    Customer.objects.filter(pk=newest.pk).update(created_at=timezone.now() + dt.timedelta(days=1))

    assert ok(post("agent", {"caller": TLV}))["customer"]["ref"] == newest.ref

    join_club(world.a)
    assert ok(post("agent", {"caller": TLV}))["customer"]["ref"] == world.a.ref


def test_a_shared_contact_number_prefers_a_club_member(post, world):
    Contact.objects.create(customer=world.a, name="Shared switchboard", phone=MOBILE)
    Contact.objects.create(customer=world.b, name="Shared switchboard", phone=MOBILE)
    join_club(world.a)

    body = ok(post("agent", {"caller": MOBILE}))

    assert (body["matched_by"], body["customer"]["ref"]) == ("contact_phone", world.a.ref)


# What the caller keyed in -----------------------------------------------------------


def test_a_customer_ref_wins_over_the_number(post, world, member):
    body = ok(post("agent", {"caller": TLV, "customer_ref": world.b.ref}))

    assert body["matched_by"] == "customer_ref"
    assert body["customer"]["ref"] == world.b.ref
    assert body["queue"] == "general"


def test_a_site_ref_gives_the_sites_current_holder(post, world, member):
    # X was A's until March 2024 and is B's now.
    body = ok(post("agent", {"caller": TLV, "site_ref": world.site_x.ref}))

    assert body["matched_by"] == "site_ref"
    assert body["customer"]["ref"] == world.b.ref
    assert body["queue"] == "general"


def test_a_customer_ref_wins_over_a_site_ref(post, world, member):
    body = ok(
        post("agent", {"caller": HAIFA, "customer_ref": world.a.ref, "site_ref": world.site_x.ref})
    )

    assert (body["matched_by"], body["customer"]["ref"]) == ("customer_ref", world.a.ref)


def test_empty_refs_count_as_not_given(post, world, member):
    body = ok(post("agent", {"caller": TLV, "customer_ref": "", "site_ref": "  "}))

    assert body["matched_by"] == "customer_phone"


# Priority ----------------------------------------------------------------------------


def test_a_critical_load_site_raises_the_priority(post, world, member):
    Site.objects.filter(pk=world.site_a.pk).update(critical_load=True)
    world.b.phone = HAIFA
    world.b.save()
    Site.objects.filter(pk=world.site_b.pk).update(critical_load=True)

    vip = ok(post("agent", {"caller": TLV}))
    general = ok(post("agent", {"caller": HAIFA}))

    assert (vip["queue"], vip["priority"], vip["critical_sites"]) == (
        "vip",
        3,
        [world.site_a.ref],
    )
    assert (general["queue"], general["priority"]) == ("general", 2)


def test_with_a_site_ref_only_that_site_decides_the_critical_load(post, world):
    Site.objects.filter(pk=world.site_b.pk).update(critical_load=True)

    about_x = ok(post("agent", {"caller": HAIFA, "site_ref": world.site_x.ref}))
    about_b = ok(post("agent", {"caller": HAIFA, "site_ref": world.site_b.ref}))

    assert about_x["priority"] == 0
    assert about_b["priority"] == 2


# Who may ask --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [(None, 401), ("revoked", 401), ("customer_a", 403), ("nobody", 403), ("agent", 200)],
)
def test_only_staff_with_customer_view_may_route_calls(post, world, member, actor, status):
    response = post(actor, {"caller": TLV})

    assert response.status_code == status, response.content
    if status != 200:
        assert "detail" in response.json()
        assert "customer" not in response.json()


def test_an_api_key_in_the_x_api_key_header_works(client, world, member):
    response = client.post(
        URL,
        data=json.dumps({"caller": TLV}),
        content_type="application/json",
        headers={"X-API-Key": world.keys["agent"]},
    )

    assert response.status_code == 200


# Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "caller", "missing"),
        ({"customer_ref": "C1"}, "caller", "missing"),
        ({"caller": ""}, "caller", "missing"),
        ({"caller": "   "}, "caller", "missing"),
        ({"caller": None}, "caller", "string_type"),
        ({"caller": 35551234}, "caller", "string_type"),
        ({"caller": "not a number"}, "caller", "invalid_phone"),
        ({"caller": "123"}, "caller", "invalid_phone"),
        ({"caller": "+1"}, "caller", "invalid_phone"),
        ({"caller": "9" * 41}, "caller", "string_too_long"),
        ({"caller": "03\x005551234"}, "caller", "string_pattern_mismatch"),
        ({"caller": TLV, "customer_ref": "NO-SUCH"}, "customer_ref", "not_found"),
        ({"caller": TLV, "site_ref": "NO-SUCH"}, "site_ref", "not_found"),
        ({"caller": TLV, "customer_ref": ["C1"]}, "customer_ref", "string_type"),
        ({"caller": TLV, "site_ref": "x" * 41}, "site_ref", "string_too_long"),
    ],
)
def test_malformed_bodies_get_422_naming_the_field(post, world, body, field, code):
    response = post("agent", body)

    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert field in errors_of(response), response.json()
    assert errors_of(response)[field]["code"] == code
    assert errors_of(response)[field]["message"]


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '"03-5551234"', "null", "{"])
def test_a_body_that_is_not_a_json_object_gets_a_4xx(post, world, raw):
    response = post("agent", raw, raw=True)

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["detail"]


def test_a_bad_number_names_the_value_in_the_message(post, world):
    response = post("agent", {"caller": "not a number"})

    assert "not a number" in errors_of(response)["caller"]["message"]


# Cost ------------------------------------------------------------------------------------


def test_routing_costs_a_constant_number_of_queries(post, world, member, make_customer):
    """The worst path (a contact's number of a member with a manager) at any portfolio size."""
    Contact.objects.create(customer=world.a, name="Night guard", phone=MOBILE)
    big = make_customer(name="Many Sites Ltd", sites=40)
    Contact.objects.create(customer=big, name="Switchboard", phone="+97248000000")
    join_club(big)
    give_manager(big, username="yossi")
    post("agent", {"caller": TLV})  # warm up: the key's last-used time is written once

    counts = []
    for caller in (MOBILE, "048000000"):
        with CaptureQueriesContext(connection) as queries:
            body = ok(post("agent", {"caller": caller}))
        assert body["queue"] == "vip"
        counts.append(len(queries))

    assert counts[0] == counts[1], "the answer must not cost more for a bigger customer"


def test_routing_stays_within_its_query_budget(post, world, member, django_assert_max_num_queries):
    Contact.objects.create(customer=world.a, name="Night guard", phone=MOBILE)
    post("agent", {"caller": TLV})

    # Authentication and permission (key, customer link, user and group permissions),
    # then the utility, customer phone, contact phone, manager, sites, open work orders
    # and current outages.
    with django_assert_max_num_queries(12):
        ok(post("agent", {"caller": MOBILE}))


def test_the_service_alone_costs_at_most_seven_queries(
    world, member, django_assert_max_num_queries
):
    Contact.objects.create(customer=world.a, name="Night guard", phone=MOBILE)

    with django_assert_max_num_queries(7):
        decision = route_call(caller=MOBILE)

    assert decision.queue == "vip"
    assert decision.account_manager.name == "Dana Levi"


# Another country -------------------------------------------------------------------------


@pytest.fixture
def cn_agent_key(utility_cn):
    user = User.objects.create_user("cn-agent")
    user.groups.add(Group.objects.get(name=roles.AGENT))
    return issue_token(user, "telephony").key


@pytest.mark.parametrize(
    ("dialled", "stored"),
    [
        ("021-5555 1234", "+862155551234"),
        ("(021) 55551234", "+862155551234"),
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
    ],
)
def test_cn_numbers_as_dialled_match_the_stored_e164(client, cn_agent_key, dialled, stored):
    customer = Customer.objects.create(ref="CN-1", name="上海纺织厂", kind="business", phone=stored)
    join_club(customer)

    response = client.post(
        URL,
        data=json.dumps({"caller": dialled}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {cn_agent_key}"},
    )

    body = ok(response)
    assert (body["caller"], body["customer"]["ref"], body["queue"]) == (stored, "CN-1", "vip")
    assert body["customer"]["language"] == "zh-hans"


# Documentation ---------------------------------------------------------------------------


def test_the_schema_describes_open_orders_and_says_demand_events_are_still_to_come():
    operation = api.get_openapi_schema()["paths"][URL]["post"]
    text = json.dumps(operation) + json.dumps(api.get_openapi_schema()["components"])

    assert "open work orders" in text
    assert "Excess-demand events join when they exist" in text
    assert operation["requestBody"]["required"] is True
