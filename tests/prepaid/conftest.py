"""Fixtures of prepaid packages: the cn utility (annual tiers 2,160 / 4,200 kWh), households."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User

from voltdesk.billing.models import Bill, Tariff
from voltdesk.core import roles
from voltdesk.core.services import init_utility
from voltdesk.customers.models import Contract, Customer, CustomerUser, Site
from voltdesk.metering.models import MonthlyRollup
from voltdesk.prepaid.models import Package
from voltdesk.prepaid.services import add_months

_refs = itertools.count(1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def cn(db):
    """The cn utility: Residential tiered 0.4883 / 0.5383 / 0.7883 CNY, VAT included."""
    return init_utility("cn").utility


@pytest.fixture
def household(cn):
    """A household on the tiered tariff with ``history`` monthly kWh before ``as_of``'s month."""

    def make(history=(), as_of=date(2026, 12, 3), kind="residential", phone="+8613800138000"):
        n = next(_refs)
        customer = Customer.objects.create(
            ref=f"H{n:05d}", name=f"Household {n}", kind=kind, phone=phone, language="zh-hans"
        )
        site = Site.objects.create(ref=f"HS{n:05d}", customer=customer)
        tariff = Tariff.objects.get(name="Residential tiered")
        Contract.objects.create(customer=customer, site=site, tariff=tariff)
        first = add_months(as_of.replace(day=1), -len(history))
        MonthlyRollup.objects.bulk_create(
            MonthlyRollup(site=site, month=add_months(first, i), kwh=Decimal(str(k)))
            for i, k in enumerate(history)
        )
        return customer

    return make


@pytest.fixture
def portal_user(cn):
    def make(customer):
        user = User.objects.create_user(f"u{next(_refs)}", password="pw")
        user.groups.add(Group.objects.get(name=roles.CUSTOMER))
        CustomerUser.objects.create(user=user, customer=customer, company_role="holder")
        return user

    return make


def issue_bill(customer, month: date, total: str, *, due: date | None = None) -> Bill:
    """An issued bill of the customer's contract for ``month`` (as the billing run leaves it)."""
    contract = Contract.objects.filter(customer=customer).first()
    n = Bill.objects.count() + 1
    issued = add_months(month, 1) + timedelta(days=1)
    return Bill.objects.create(
        number=f"B{month:%Y-%m}-{n:06d}",
        kind="bill",
        status="issued",
        customer=customer,
        contract=contract,
        site=contract.site,
        period_start=month,
        period_end=add_months(month, 1),
        net_amount=Decimal(total),
        total=Decimal(total),
        currency="CNY",
        issued_at=datetime.combine(issued, datetime.min.time(), SHANGHAI),
        due_date=due or issued,
    )


def active_package(customer, first_month: date, monthly="100.00", bonus="1.00") -> Package:
    """A package already paid, whose year starts ``first_month``."""
    contract = Contract.objects.filter(customer=customer).first()
    return Package.objects.create(
        customer=customer,
        contract=contract,
        status="active",
        level_percent=100,
        annual_kwh=Decimal(3000),
        annual_price=Decimal(monthly) * 12,
        monthly_amount=Decimal(monthly),
        bonus_rate=Decimal("0.0100"),
        monthly_bonus=Decimal(bonus),
        first_month=first_month,
        last_month=add_months(first_month, 11),
        currency="CNY",
        idempotency_key=f"k-{next(_refs)}",
        provider_ref=f"sbx_pkg_test_{next(_refs)}",
    )
