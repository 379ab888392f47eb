"""Halls and helpers for the appointment tests (cn unless a test says otherwise)."""

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User

from voltdesk.appointments.choices import BusinessKindCode
from voltdesk.appointments.models import BusinessKind, OpeningHours, ServiceHall
from voltdesk.core import roles
from voltdesk.customers.models import Contract, Customer, CustomerUser, Site

SHANGHAI = ZoneInfo("Asia/Shanghai")
JERUSALEM = ZoneInfo("Asia/Jerusalem")


def at(day: str, hour: int, minute: int = 0, zone=SHANGHAI) -> datetime:
    """An aware local time, e.g. at("2026-09-14", 9, 30)."""
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), tzinfo=zone)


def make_hall(code="chaoyang", *, weekdays=range(5), spans=None, capacity=2, minutes=30, **kw):
    hall = ServiceHall.objects.create(
        code=code,
        name=kw.pop("name", f"Hall {code}"),
        address=kw.pop("address", "1 Main Street"),
        slot_minutes=minutes,
        capacity=capacity,
        horizon_days=kw.pop("horizon_days", 60),
        **kw,
    )
    spans = spans or [(time(9), time(12)), (time(13, 30), time(17))]
    OpeningHours.objects.bulk_create(
        OpeningHours(hall=hall, weekday=d, opens=o, closes=c) for d in weekdays for o, c in spans
    )
    return hall


@pytest.fixture
def cn(utility_cn):
    return utility_cn


@pytest.fixture
def kinds(db):
    return {
        code: BusinessKind.objects.create(code=code, rank=i)
        for i, code in enumerate(
            [
                BusinessKindCode.NEW_CONNECTION,
                BusinessKindCode.METER_TEST,
                BusinessKindCode.CHANGE_OF_USE,
            ]
        )
    }


@pytest.fixture
def hall(cn):
    return make_hall()


_n = iter(range(1, 10_000))


@pytest.fixture
def household(cn):
    """A residential customer with one site and a user; ``household(language=...)``."""

    def make(language="zh-hans", kind="residential", phone="+8613800138000", email=""):
        n = next(_n)
        customer = Customer.objects.create(
            ref=f"H{n:05d}",
            name=f"Household {n}",
            kind=kind,
            phone=phone,
            email=email or f"h{n}@example.cn",
            language=language,
        )
        site = Site.objects.create(ref=f"HS{n:05d}", customer=customer, address="2 Side Street")
        Contract.objects.create(customer=customer, site=site)
        user = User.objects.create_user(f"home-{n}", password="pw")
        user.groups.add(Group.objects.get(name=roles.CUSTOMER))
        CustomerUser.objects.create(user=user, customer=customer, company_role="holder")
        customer.user = user
        customer.site = site
        return customer

    return make


@pytest.fixture
def staff(cn):
    def make(role=roles.AGENT):
        user = User.objects.create_user(f"{role}-{next(_n)}", password="pw")
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


def load_notices(profile="cn"):
    from voltdesk import knowledge
    from voltdesk.knowledge.services import load_articles

    path = Path(knowledge.__file__).parent / "content" / f"{profile}.json"
    load_articles(path, publish=True, profile=profile)
