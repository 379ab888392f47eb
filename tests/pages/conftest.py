"""Two customers with sites, contracts and consumption, and users to look at them."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from voltdesk.core import roles
from voltdesk.customers.models import Contact, Contract, Site
from voltdesk.metering.models import DailyRollup, MonthlyRollup
from voltdesk.portal.consumption import month_starts


@pytest.fixture
def world(utility, make_customer, make_user):
    """Customer A (Acme, two sites) and customer B (Blue Bakery, one site), each
    with a user; 24 months of monthly rollups and a month of daily ones for A's
    first site.

    A's and B's figures are different numbers (A: 1,111 per site and month,
    B: 5,555) so a page that mixes them up shows it.
    """
    a = make_customer(name="Acme Industries", sites=2, phone="+97235551111", address="1 Herzl St")
    b = make_customer(name="Blue Bakery", sites=1, phone="+97235552222")
    Contact.objects.create(customer=a, name="Dana Levi", phone="+972501234567", is_primary=True)
    months = month_starts(24)
    rollups = [
        MonthlyRollup(site=site, month=month, kwh=Decimal(amount))
        for customer, amount in ((a, "1111"), (b, "5555"))
        for site in customer.sites.all()
        for month in months
    ]
    MonthlyRollup.objects.bulk_create(rollups)
    a_site = a.sites.order_by("ref").first()
    last = months[-2]
    DailyRollup.objects.bulk_create(
        DailyRollup(site=a_site, day=last + dt.timedelta(days=n), kwh=Decimal("37"))
        for n in range(10)
    )
    return SimpleNamespace(
        a=a,
        b=b,
        a_site=a_site,
        b_site=b.sites.get(),
        months=months,
        a_user=make_user(roles.CUSTOMER, username="acme-admin", customer=a),
        b_user=make_user(roles.CUSTOMER, username="bakery-owner", customer=b),
        agent=make_user(roles.AGENT, username="agent-1"),
    )


@pytest.fixture
def handover(utility, make_customer, make_user):
    """A site held by Old Owner until the first of a month 6 months ago, then by New Owner.

    Old Owner's months carry 300 kWh a month, New Owner's 70, days alike (3 and 7).
    """
    zone = ZoneInfo(utility.time_zone)
    old = make_customer(name="Old Owner Ltd", sites=0)
    new = make_customer(name="New Owner Ltd", sites=0)
    site = Site.objects.create(ref="S-HANDOVER", customer=new, address="5 Market Rd")
    months = month_starts(24)
    change = months[-7]
    change_at = dt.datetime.combine(change, dt.time(0), tzinfo=zone)
    Contract.objects.create(customer=old, site=site, end=change_at)
    Contract.objects.create(customer=new, site=site, start=change_at)
    MonthlyRollup.objects.bulk_create(
        MonthlyRollup(site=site, month=m, kwh=Decimal("300" if m < change else "70"))
        for m in months
    )
    DailyRollup.objects.bulk_create(
        DailyRollup(
            site=site,
            day=change + dt.timedelta(days=n),
            kwh=Decimal("3" if n < 0 else "7"),
        )
        for n in range(-5, 5)
    )
    return SimpleNamespace(
        site=site,
        old=old,
        new=new,
        change=change,
        old_user=make_user(roles.CUSTOMER, username="old-owner", customer=old),
        new_user=make_user(roles.CUSTOMER, username="new-owner", customer=new),
    )


@pytest.fixture
def client_for():
    """A test client signed in as the given user (or anonymous for None)."""

    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
