"""A small world for the API: customers A and B, and a site X that passed from A to B.

X's contracts: A's until T (2024-03-15 00:00 Jerusalem), B's from T. Every site
(A's, B's and X) has the same March 2024: a daily read of 10.000001 kWh for each
local day except 14 and 15 March, which have six-hour reads of 1.5 kWh instead
(four before T, four from T).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client

from voltdesk.api.services import issue_token, revoke_token
from voltdesk.core import roles
from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.metering.models import Reading

JERUSALEM = ZoneInfo("Asia/Jerusalem")
T = dt.datetime(2024, 3, 15, tzinfo=JERUSALEM)


@dataclass
class World:
    a: Customer
    b: Customer
    site_a: Site
    site_b: Site
    site_x: Site
    keys: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    orders: dict[str, object] = field(default_factory=dict)  # a work order of A and of B

    def ref(self, owner: str, kind: str) -> str:
        if kind == "customer":
            return (self.a if owner == "A" else self.b).ref
        if kind == "workorder":
            return self.orders[owner].number
        return (self.site_a if owner == "A" else self.site_b).ref


def add_readings(site, start: dt.datetime, count: int, step=dt.timedelta(hours=6), kwh="1.5"):
    Reading.objects.bulk_create(
        Reading(
            site=site,
            start=start + i * step,
            end=start + (i + 1) * step,
            kwh=Decimal(kwh),
            source="csv",
        )
        for i in range(count)
    )


def add_march(site):
    add_readings(site, T - dt.timedelta(days=1), 8)
    Reading.objects.bulk_create(
        Reading(
            site=site,
            start=dt.datetime(2024, 3, d, tzinfo=JERUSALEM),
            end=dt.datetime(2024, 3, d + 1, tzinfo=JERUSALEM)
            if d < 31
            else dt.datetime(2024, 4, 1, tzinfo=JERUSALEM),
            kwh=Decimal("10.000001"),
            source="csv",
        )
        for d in range(1, 32)
        if d not in (14, 15)
    )


@pytest.fixture
def world(make_customer, make_user):
    a = make_customer(name="Alpha Plastics")
    b = make_customer(name="Beta Foods")
    site_a, site_b = a.sites.get(), b.sites.get()
    site_x = Site.objects.create(ref=f"X-{a.ref}", customer=b, address="1 Harbour Rd")
    Contract.objects.create(customer=a, site=site_x, end=T)
    Contract.objects.create(customer=b, site=site_x, start=T)
    for site in (site_a, site_b, site_x):
        add_march(site)
    w = World(a=a, b=b, site_a=site_a, site_b=site_b, site_x=site_x)
    from voltdesk.workorders.services import add_comment, open_work_order

    for owner, customer in (("A", a), ("B", b)):
        order = open_work_order(channel="web", order_type="consultation", customer=customer).order
        add_comment(order, body=f"Question of {customer.name}")
        w.orders[owner] = order
    w.users = {
        "customer_a": make_user(roles.CUSTOMER, customer=a),
        "customer_b": make_user(roles.CUSTOMER, customer=b),
        "agent": make_user(roles.AGENT),
        "nobody": User.objects.create_user("nobody", password="pw-nobody"),
    }
    w.keys = {name: issue_token(user, "test").key for name, user in w.users.items()}
    revoked = issue_token(w.users["agent"], "old")
    revoke_token(revoked.token.prefix)
    w.keys["revoked"] = revoked.key
    return w


@pytest.fixture
def call(client: Client, world):
    """GET a path as one of the world's actors (``None``: anonymous)."""

    def get(actor: str | None, path: str, **params):
        headers = {"Authorization": f"Bearer {world.keys[actor]}"} if actor else {}
        return client.get(path, params, headers=headers)

    return get
