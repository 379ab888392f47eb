"""Shared fixtures: a utility, customers with sites, and users of every role."""

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.utils import translation

from voltdesk.core import roles
from voltdesk.core.services import init_utility
from voltdesk.customers.models import Contract, Customer, CustomerUser, Site

_refs = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Tests create many users; PBKDF2 would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_by_default():
    # A request that activated a user's language leaves it active in the thread, and
    # management commands speak the active language: each test starts from English.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def private_cache(settings):
    # The file cache is shared by every process of a deployment; a test keeps its own.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def utility(db):
    """The il utility (Asia/Jerusalem, ILS) with its roles."""
    return init_utility("il").utility


@pytest.fixture
def utility_cn(db):
    return init_utility("cn").utility


@pytest.fixture
def make_customer(utility):
    """Build a customer holding ``sites`` sites, each with an open contract."""

    def make(name="Customer", kind="business", sites=1, **fields):
        n = next(_refs)
        customer = Customer.objects.create(ref=f"C{n:05d}", name=name, kind=kind, **fields)
        for i in range(sites):
            site = Site.objects.create(ref=f"S{n:05d}-{i + 1}", customer=customer)
            Contract.objects.create(customer=customer, site=site)
        return customer

    return make


@pytest.fixture
def make_user(utility):
    """Build a user in a role; customer users need ``customer=``."""

    def make(role, username=None, customer=None, company_role="admin"):
        username = username or f"{role}-{next(_refs)}"
        user = User.objects.create_user(username, password="pw-" + username)
        user.groups.add(Group.objects.get(name=role))
        if role == roles.CUSTOMER:
            assert customer is not None, "a customer user acts for one customer"
            CustomerUser.objects.create(user=user, customer=customer, company_role=company_role)
        return user

    return make


def kwh(value) -> Decimal:
    return Decimal(str(value))
