"""The access proof: every API route, every kind of caller.

ROUTES lists every route with how to address A's and B's objects; a test fails
when the API has a route that is not listed, so no route can skip these checks.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from voltdesk.api.models import ApiToken
from voltdesk.api.urls import api
from voltdesk.core.models import AuditEntry
from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.metering.models import DailyRollup, Reading

PREFIX = "/api/v1"
MARCH = {"from": "2024-03-01", "to": "2024-04-01"}


@dataclass(frozen=True)
class Route:
    path: str  # as the OpenAPI schema names it
    ref: str | None = None  # "customer" or "site": whose ref fills {ref}
    params: dict | None = None
    listing: bool = False  # answers {"count", "items", ...}

    def url(self, world, owner="A") -> str:
        path = self.path
        if self.ref:
            path = path.replace("{ref}", world.ref(owner, self.ref))
        return PREFIX + path

    def __str__(self):
        return self.path


ROUTES = [
    Route("/customers", listing=True),
    Route("/customers/{ref}", ref="customer"),
    Route("/customers/{ref}/sites", ref="customer", listing=True),
    Route("/customers/{ref}/contracts", ref="customer", listing=True),
    Route("/sites/{ref}", ref="site"),
    Route("/sites/{ref}/readings", ref="site", listing=True),
    Route("/sites/{ref}/consumption", ref="site", params=MARCH),
]
ADDRESSED = [r for r in ROUTES if r.ref]


def snapshot():
    """Everything a request could change, to prove that a denied one changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Customer, Site, Contract, Reading, DailyRollup, AuditEntry, User)
    } | {"tokens": list(ApiToken.objects.order_by("pk").values("pk", "prefix", "revoked_at"))}


def test_every_api_route_is_in_the_access_table():
    schema = api.get_openapi_schema()
    registered = {
        (method.upper(), path.removeprefix(PREFIX))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    listed = {("GET", r.path) for r in ROUTES}
    assert registered == listed, "add new routes to ROUTES (and their access checks)"


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("actor", [None, "revoked"])
def test_anonymous_and_revoked_keys_get_401_and_change_nothing(call, world, route, actor):
    before = snapshot()

    response = call(actor, route.url(world), **(route.params or {}))

    assert response.status_code == 401
    assert "detail" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize("route", ADDRESSED, ids=str)
def test_a_customer_user_gets_404_for_another_customers_objects(call, world, route):
    before = snapshot()

    response = call("customer_a", route.url(world, owner="B"), **(route.params or {}))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_customer_user_sees_its_own(call, world, route):
    response = call("customer_a", route.url(world, owner="A"), **(route.params or {}))

    assert response.status_code == 200


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_user_without_view_permission_gets_403_and_changes_nothing(call, world, route):
    before = snapshot()

    response = call("nobody", route.url(world, owner="A"), **(route.params or {}))

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("owner", ["A", "B"])
def test_staff_with_permission_see_every_customer(call, world, route, owner):
    response = call("agent", route.url(world, owner=owner), **(route.params or {}))

    assert response.status_code == 200


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_unsafe_methods_are_refused_and_change_nothing(client, world, route):
    before = snapshot()
    headers = {"Authorization": f"Bearer {world.keys['agent']}"}

    for method in (client.post, client.put, client.patch, client.delete):
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
