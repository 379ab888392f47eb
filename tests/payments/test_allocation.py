"""Balances and payments: oldest debt first, partial payments, credit used by the next bill."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from voltdesk.billing.models import Bill, Payment, PaymentAllocation
from voltdesk.billing.payments import PaymentError, apply_credit, customer_balance, record_payment
from voltdesk.core.models import AuditEntry

D = Decimal
MARCH_1 = dt.date(2026, 3, 1)
APRIL_1 = dt.date(2026, 4, 1)


def paid(bill) -> Decimal:
    bill.refresh_from_db()
    return bill.paid


@pytest.mark.django_db
def test_a_payment_settles_the_oldest_debt_first(make_customer, make_bill, make_user):
    customer = make_customer()
    staff = make_user("supervisor")
    newest = make_bill(customer, "80.00", APRIL_1)
    oldest = make_bill(customer, "100.00", MARCH_1)
    middle = make_bill(customer, "250.50", APRIL_1 - dt.timedelta(days=1))

    result = record_payment(customer, "300.00", "bank", None, "TRX-1", user=staff)

    # 300.00 = 100.00 (due 1 March) + 200.00 of 250.50 (due 31 March); nothing for 1 April.
    assert (paid(oldest), paid(middle), paid(newest)) == (D("100.00"), D("200.00"), D("0.00"))
    assert result.payment.allocated == D("300.00")
    assert result.credit_left == D("0.00")
    assert PaymentAllocation.objects.filter(payment=result.payment).count() == 2
    balance = customer_balance(customer, as_of=APRIL_1)
    # Open: 50.50 + 80.00; overdue on 1 April: 50.50 (due 31 March); 80.00 is due today.
    assert (balance.open_debt, balance.overdue, balance.credit) == (
        D("130.50"),
        D("50.50"),
        D("0.00"),
    )
    assert AuditEntry.objects.filter(action="billing.payment_recorded", actor=staff).count() == 1


@pytest.mark.django_db
def test_same_due_date_goes_by_issue_date_then_number(make_customer, make_bill, make_user):
    customer = make_customer()
    later = make_bill(customer, "60.00", MARCH_1)
    earlier = make_bill(customer, "60.00", MARCH_1)
    Bill.objects.filter(pk=later.pk).update(issued_at=timezone.now())
    Bill.objects.filter(pk=earlier.pk).update(issued_at=timezone.now() - dt.timedelta(days=3))

    record_payment(customer, "70.00", "cash", None, user=None)

    assert (paid(earlier), paid(later)) == (D("60.00"), D("10.00"))


@pytest.mark.django_db
def test_a_partial_payment_leaves_the_rest_open(make_customer, make_bill):
    customer = make_customer()
    bill = make_bill(customer, "412.37", MARCH_1)

    record_payment(customer, "150.00", "bank", None, user=None)

    bill.refresh_from_db()
    assert bill.open_amount == D("262.37")
    assert customer_balance(customer, as_of=MARCH_1 + dt.timedelta(days=1)).overdue == D("262.37")


@pytest.mark.django_db
def test_overpayment_becomes_credit_that_pays_the_next_bill(make_customer, make_bill):
    customer = make_customer()
    make_bill(customer, "100.00", MARCH_1)

    result = record_payment(customer, "150.00", "bank", None, user=None)

    assert result.credit_left == D("50.00")
    balance = customer_balance(customer, as_of=MARCH_1)
    assert (balance.open_debt, balance.credit, balance.balance) == (
        D("0.00"),
        D("50.00"),
        D("-50.00"),
    )

    april = make_bill(customer, "80.00", APRIL_1)
    apply_credit(customer)

    assert paid(april) == D("50.00")
    balance = customer_balance(customer, as_of=APRIL_1)
    assert (balance.open_debt, balance.credit) == (D("30.00"), D("0.00"))
    assert Payment.objects.get().allocated == D("150.00")


@pytest.mark.django_db
def test_a_credit_note_offsets_the_bill_it_corrects_before_money_is_spent(make_customer, make_bill):
    customer = make_customer()
    wrong = make_bill(customer, "200.00", MARCH_1, status="credited")
    note = make_bill(customer, "-200.00", None, kind="credit_note", corrects=wrong)
    right = make_bill(customer, "180.00", APRIL_1)

    record_payment(customer, "100.00", "bank", None, user=None)

    # The note cancels the wrong bill; the 100.00 goes to the right one: 80.00 left.
    note.refresh_from_db()
    assert (paid(wrong), note.open_amount, paid(right)) == (D("200.00"), D("0.00"), D("100.00"))
    assert customer_balance(customer, as_of=APRIL_1).open_debt == D("80.00")


@pytest.mark.django_db
def test_the_balance_is_per_contract(make_customer, make_bill):
    customer = make_customer(sites=2)
    first, second = customer.contracts.order_by("pk")
    a = make_bill(customer, "10.00", MARCH_1)
    b = make_bill(customer, "20.00", MARCH_1)
    Bill.objects.filter(pk=b.pk).update(contract=second, site=second.site)

    rows = {c.contract_id: c.open_debt for c in customer_balance(customer, APRIL_1).contracts}

    assert rows == {first.pk: D("10.00"), second.pk: D("20.00")}
    assert a.contract_id == first.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "method", "field"),
    [
        ("0", "bank", "amount"),
        ("-5", "bank", "amount"),
        ("10.001", "bank", "amount"),
        ("ten", "bank", "amount"),
        ("NaN", "bank", "amount"),
        ("10", "barter", "method"),
    ],
)
def test_bad_payments_name_the_field_and_write_nothing(make_customer, amount, method, field):
    customer = make_customer()

    with pytest.raises(PaymentError) as refused:
        record_payment(customer, amount, method, None, user=None)

    assert refused.value.field == field
    assert not Payment.objects.exists()
