"""The access proof: every API route, every kind of caller.

ROUTES lists every route with how to address A's and B's objects; a test fails
when the API has a route that is not listed, so no route can skip these checks.
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from voltdesk.api.models import ApiToken
from voltdesk.api.urls import api
from voltdesk.core.models import AuditEntry
from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.metering.models import DailyRollup, Reading
from voltdesk.workorders.models import Attachment, Comment, Transition, WorkOrder

PREFIX = "/api/v1"
MARCH = {"from": "2024-03-01", "to": "2024-04-01"}


@dataclass(frozen=True)
class Route:
    path: str  # as the OpenAPI schema names it
    ref: str | None = None  # "customer" or "site": whose ref fills {ref}
    params: dict | None = None
    listing: bool = False  # answers {"count", "items", ...}
    method: str = "GET"
    body: Callable | None = None  # (world, owner) -> the JSON body of a POST
    # What a customer user gets for its own customer: 200 for its own data; 403 for
    # desk-only routes (then there is nothing of another customer's to address either).
    customer_user_status: int = 200
    ok_status: int = 200  # what staff with the permission get (201 for a creation)
    multipart: bool = False  # the body is a form with a file, not JSON

    def url(self, world, owner="A") -> str:
        path = self.path
        if self.ref == "workorder":
            path = path.replace("{number}", world.ref(owner, "workorder"))
        elif self.ref and "{ref}" in path:
            path = path.replace("{ref}", world.ref(owner, self.ref))
        return PREFIX + path

    def __str__(self):
        return f"{self.method} {self.path}" if self.method != "GET" else self.path


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def new_order_body(world, owner):
    return {"type": "fault", "channel": "api", "customer_ref": world.ref(owner, "customer")}


def attachment_body(world, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile("meter.png", PNG, content_type="image/png")}


def route_call_body(world, owner):
    # Staff route calls for any customer; the number itself is nobody's.
    return {"caller": "03-5551234", "customer_ref": world.ref(owner, "customer")}


ROUTES = [
    Route("/customers", listing=True),
    Route("/customers/{ref}", ref="customer"),
    Route("/customers/{ref}/sites", ref="customer", listing=True),
    Route("/customers/{ref}/contracts", ref="customer", listing=True),
    Route("/sites/{ref}", ref="site"),
    Route("/sites/{ref}/readings", ref="site", listing=True),
    Route("/sites/{ref}/consumption", ref="site", params=MARCH),
    Route("/calls/route", method="POST", body=route_call_body, customer_user_status=403),
    Route("/workorders", listing=True),
    Route(
        "/workorders",
        method="POST",
        ref="customer",
        body=new_order_body,
        customer_user_status=201,
        ok_status=201,
    ),
    Route("/workorders/{number}", ref="workorder"),
    Route(
        "/workorders/{number}/transitions",
        ref="workorder",
        method="POST",
        body=lambda world, owner: {"action": "escalate", "note": "caller chased"},
        customer_user_status=403,
    ),
    Route("/workorders/{number}/comments", ref="workorder", listing=True),
    Route(
        "/workorders/{number}/comments",
        ref="workorder",
        method="POST",
        body=lambda world, owner: {"body": "Any news?"},
        customer_user_status=201,
        ok_status=201,
    ),
    Route("/workorders/{number}/attachments", ref="workorder", listing=True),
    Route(
        "/workorders/{number}/attachments",
        ref="workorder",
        method="POST",
        body=attachment_body,
        multipart=True,
        customer_user_status=201,
        ok_status=201,
    ),
]
ADDRESSED = [r for r in ROUTES if r.ref and r.customer_user_status in (200, 201)]

# Money routes have their own table of callers (company roles without money, staff who
# read bills but take no payments): tests/payments/test_api_access.py. The webhook is
# signed by the gateway instead of a key: tests/payments/test_online.py.
PROVEN_ELSEWHERE = {
    ("GET", "/customers/{ref}/balance"),
    ("GET", "/bills"),
    ("GET", "/bills/{number}"),
    ("POST", "/payments"),
    ("POST", "/payments/online"),
    ("POST", "/payments/webhook/sandbox"),
    # The package purchase's webhook: its signature is the credential (tests/prepaid).
    ("POST", "/prepaid/webhook/sandbox"),
}


@pytest.fixture
def send(client, world):
    """Make a route's own request as one of the world's actors (``None``: anonymous)."""

    def request(actor: str | None, route: Route, owner="A"):
        headers = {"Authorization": f"Bearer {world.keys[actor]}"} if actor else {}
        if route.method == "POST" and route.multipart:
            return client.post(route.url(world, owner), route.body(world, owner), headers=headers)
        if route.method == "POST":
            body = json.dumps(route.body(world, owner))
            return client.post(
                route.url(world, owner), body, content_type="application/json", headers=headers
            )
        return client.get(route.url(world, owner), route.params or {}, headers=headers)

    return request


def snapshot():
    """Everything a request could change, to prove that a denied one changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            Customer,
            Site,
            Contract,
            Reading,
            DailyRollup,
            AuditEntry,
            User,
            WorkOrder,
            Transition,
            Comment,
            Attachment,
        )
    } | {"tokens": list(ApiToken.objects.order_by("pk").values("pk", "prefix", "revoked_at"))}


def test_every_api_route_is_in_the_access_table():
    schema = api.get_openapi_schema()
    registered = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    listed = {(r.method, r.path) for r in ROUTES} | PROVEN_ELSEWHERE
    assert registered == listed, "add new routes to ROUTES (and their access checks)"


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("actor", [None, "revoked"])
def test_anonymous_and_revoked_keys_get_401_and_change_nothing(send, world, route, actor):
    before = snapshot()

    response = send(actor, route)

    assert response.status_code == 401
    assert "detail" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("route", ADDRESSED, ids=str)
def test_a_customer_user_gets_404_for_another_customers_objects(send, world, route):
    before = snapshot()

    response = send("customer_a", route, owner="B")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_customer_user_sees_its_own_or_gets_403_from_desk_routes(send, world, route):
    before = snapshot()

    response = send("customer_a", route, owner="A")

    assert response.status_code == route.customer_user_status, response.content
    if response.status_code != 201:  # a creation of its own changes things, by design
        assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_user_without_view_permission_gets_403_and_changes_nothing(send, world, route):
    before = snapshot()

    response = send("nobody", route, owner="A")

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("owner", ["A", "B"])
def test_staff_with_permission_see_every_customer(send, world, route, owner):
    response = send("agent", route, owner=owner)

    assert response.status_code == route.ok_status, response.content


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_other_methods_are_refused_and_change_nothing(client, world, route):
    before = snapshot()
    headers = {"Authorization": f"Bearer {world.keys['agent']}"}

    methods = {"GET": client.get, "POST": client.post, "PUT": client.put}
    methods |= {"PATCH": client.patch, "DELETE": client.delete}
    served = {r.method for r in ROUTES if r.path == route.path}
    for name, method in methods.items():
        if name not in served:
            assert method(route.url(world), headers=headers).status_code == 405

    assert snapshot() == before


# What the lists hold ------------------------------------------------------------


def items(response):
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_customer_list_shows_a_customer_user_only_its_own(call, world):
    assert [c["ref"] for c in items(call("customer_a", "/api/v1/customers"))] == [world.a.ref]
    staff_refs = {c["ref"] for c in items(call("agent", "/api/v1/customers"))}
    assert {world.a.ref, world.b.ref} <= staff_refs


def test_a_customers_sites_include_one_it_held_but_hide_the_new_holder(call, world):
    sites = items(call("customer_a", f"/api/v1/customers/{world.a.ref}/sites"))

    assert {s["ref"]: s["customer"] for s in sites} == {
        world.site_a.ref: world.a.ref,
        world.site_x.ref: None,  # held by B now: A must not learn who
    }
    agent_view = call("agent", f"/api/v1/sites/{world.site_x.ref}").json()
    assert agent_view["customer"] == world.b.ref


def test_contract_list_shows_only_the_customers_own_contracts(call, world):
    contracts = items(call("customer_a", f"/api/v1/customers/{world.a.ref}/contracts"))

    assert {c["site"] for c in contracts} == {world.site_a.ref, world.site_x.ref}
    assert {c["id"] for c in contracts} == set(
        Contract.objects.filter(customer=world.a).values_list("pk", flat=True)
    )


def test_a_site_that_changed_hands_shows_each_holder_only_its_own_readings(call, world):
    handover = Contract.objects.get(customer=world.a, site=world.site_x).end
    url = f"/api/v1/sites/{world.site_x.ref}/readings"

    seen = {
        actor: [
            dt.datetime.fromisoformat(r["start"])
            for r in items(call(actor, url, **{"from": "2024-03-14", "to": "2024-03-16"}))
        ]
        for actor in ("customer_a", "customer_b", "agent")
    }

    assert len(seen["customer_a"]) == 4 and all(s < handover for s in seen["customer_a"])
    assert len(seen["customer_b"]) == 4 and all(s >= handover for s in seen["customer_b"])
    assert sorted(seen["customer_a"] + seen["customer_b"]) == seen["agent"]


def test_a_site_that_changed_hands_counts_each_holder_only_its_own_days(call, world):
    url = f"/api/v1/sites/{world.site_x.ref}/consumption"

    totals = {
        actor: call(actor, url, **MARCH).json()["total_kwh"]
        for actor in ("customer_a", "customer_b", "agent")
    }

    # 1-13 March: 13 daily reads; 14 March: 4 x 1.5 kWh; from T (15 March) likewise.
    assert totals == {
        "customer_a": "136.000013",
        "customer_b": "166.000016",
        "agent": "302.000029",
    }
