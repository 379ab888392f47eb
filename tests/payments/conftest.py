"""Issued bills with known totals, made directly (the billing run is another part's)."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from voltdesk.billing.models import Bill

_numbers = itertools.count(1)


@pytest.fixture
def make_bill(utility):
    """An issued bill of ``customer`` for ``total`` due ``due`` (a date)."""

    def make(customer, total, due, *, kind="bill", status="issued", corrects=None, month=None):
        n = next(_numbers)
        contract = customer.contracts.order_by("pk").first()
        start = month or dt.date(2026, 1 + n % 12, 1)
        return Bill.objects.create(
            number=f"B{n:06d}",
            kind=kind,
            status=status,
            customer=customer,
            contract=contract if kind != "credit_note" or corrects is None else corrects.contract,
            site=contract.site if contract else None,
            period_start=start,
            period_end=start + dt.timedelta(days=28),
            corrects=corrects,
            net_amount=Decimal(total),
            total=Decimal(total),
            currency="ILS",
            issued_at=timezone.now() - dt.timedelta(days=40 - n % 30),
            due_date=due,
        )

    return make


def money(value) -> Decimal:
    return Decimal(value)
