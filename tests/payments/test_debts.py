"""Late fees (il profile: 7 grace days; 0.015 % a day for households, 0.02 % for businesses)
and payment arrangements."""

import datetime as dt
from decimal import Decimal

import pytest

from voltdesk.billing.debts import agree_arrangement, charge_late_fees, check_arrangements
from voltdesk.billing.models import Bill, Instalment, PaymentArrangement
from voltdesk.billing.payments import PaymentError, customer_balance, record_payment, today

D = Decimal
DUE = dt.date(2026, 3, 1)


def day(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


def fees(bill):
    return list(
        Bill.objects.filter(kind="late_fee", corrects=bill)
        .order_by("period_start")
        .values_list("period_start", "period_end", "total")
    )


@pytest.mark.django_db
def test_no_late_fee_inside_the_grace_days_then_from_the_due_date(make_customer, make_bill):
    bill = make_bill(make_customer(kind="business"), "1000.00", DUE)

    assert charge_late_fees(day(7))["late_fees"] == 0  # 7 days late: still in grace
    figures = charge_late_fees(day(8))

    # 1000.00 x 0.0002 a day x 8 days (1 to 9 March) = 1.60
    assert fees(bill) == [(DUE, day(8), D("1.60"))]
    assert figures == {"bills_overdue": 1, "late_fees": 1, "amount": D("1.60")}
    fee = Bill.objects.get(kind="late_fee")
    assert (fee.status, fee.customer_id, fee.vat_amount) == ("issued", bill.customer_id, D("0"))
    line = fee.lines.get()
    # The line a customer can check: 8,000.00 (amount x days) x 0.0002 = 1.60
    assert (line.quantity, line.unit_price, line.amount) == (D("8000"), D("0.0002"), D("1.60"))


@pytest.mark.django_db
def test_households_pay_the_household_rate(make_customer, make_bill):
    bill = make_bill(make_customer(kind="residential"), "1000.00", DUE)

    charge_late_fees(day(8))

    # 1000.00 x 0.00015 x 8 = 1.20
    assert fees(bill) == [(DUE, day(8), D("1.20"))]


@pytest.mark.django_db
def test_twice_on_one_day_charges_once_and_a_later_day_the_days_since(make_customer, make_bill):
    bill = make_bill(make_customer(kind="business"), "1000.00", DUE)

    charge_late_fees(day(8))
    again = charge_late_fees(day(8))
    record_payment(bill.customer, "501.60", "bank", None, user=None)  # the fee 1.60 and 500.00
    charge_late_fees(day(18))

    assert again["late_fees"] == 0
    # Oldest first: the bill (due 1 March) takes all 501.60; 498.40 open x 0.0002 x 10 = 0.9968
    assert fees(bill) == [(DUE, day(8), D("1.60")), (day(8), day(18), D("1.00"))]


@pytest.mark.django_db
def test_under_a_cent_nothing_is_charged_and_the_days_wait(make_customer, make_bill):
    bill = make_bill(make_customer(kind="residential"), "4.00", DUE)

    charge_late_fees(day(8))  # 4.00 x 0.00015 x 8 = 0.0048: under a cent
    charge_late_fees(day(9))  # 4.00 x 0.00015 x 9 = 0.0054: one cent, half up

    assert fees(bill) == [(DUE, day(9), D("0.01"))]


@pytest.mark.django_db
def test_no_late_fee_on_paid_bills_late_fees_or_credit_notes(make_customer, make_bill):
    customer = make_customer(kind="business")
    paid = make_bill(customer, "100.00", DUE)
    record_payment(customer, "100.00", "bank", None, user=None)
    make_bill(customer, "5.00", DUE, kind="late_fee", corrects=paid)

    assert charge_late_fees(day(30))["late_fees"] == 0


@pytest.fixture
def debtor(make_customer, make_bill):
    customer = make_customer(kind="business")
    first = make_bill(customer, "1000.00", DUE)
    second = make_bill(customer, "300.00", DUE)
    return customer, first, second


@pytest.mark.django_db
def test_an_arrangement_splits_the_debt_into_equal_instalments(debtor, make_user):
    customer, first, second = debtor
    start = today() + dt.timedelta(days=5)

    arrangement = agree_arrangement(
        customer, [first, second], 3, start, user=make_user("supervisor")
    )

    # 1300.00 / 3 = 433.33 twice, and 433.34 with the remainder cent.
    rows = list(arrangement.instalments.values_list("number", "amount"))
    assert rows == [(1, D("433.33")), (2, D("433.33")), (3, D("433.34"))]
    dues = list(arrangement.instalments.values_list("due_date", flat=True))
    assert dues[0] == start and dues[1].month == (start.month % 12) + 1
    assert arrangement.total == D("1300.00")


@pytest.mark.django_db
def test_no_late_fee_while_the_arrangement_is_kept_and_broken_fees_restart(debtor, make_user):
    customer, first, second = debtor
    start = today() + dt.timedelta(days=5)
    arrangement = agree_arrangement(
        customer, [first, second], 3, start, user=make_user("supervisor")
    )

    record_payment(customer, "500.00", "bank", None, user=None)
    inst = {i.number: i for i in Instalment.objects.filter(arrangement=arrangement)}
    # 500.00 fills the first instalment (433.33) and 66.67 of the second.
    assert (inst[1].paid, inst[2].paid) == (D("433.33"), D("66.67"))
    assert charge_late_fees(start + dt.timedelta(days=20))["late_fees"] == 0

    second_due = inst[2].due_date
    assert check_arrangements(second_due + dt.timedelta(days=14)) == 0
    assert check_arrangements(second_due + dt.timedelta(days=15)) == 1
    arrangement.refresh_from_db()
    assert arrangement.status == "broken"

    broke = second_due + dt.timedelta(days=15)
    charge_late_fees(broke + dt.timedelta(days=10))
    # From the day it broke: 500.00 open x 0.0002 x 10 = 1.00; 300.00 x 0.0002 x 10 = 0.60
    assert fees(first) == [(broke, broke + dt.timedelta(days=10), D("1.00"))]
    assert fees(second) == [(broke, broke + dt.timedelta(days=10), D("0.60"))]


@pytest.mark.django_db
def test_paying_every_instalment_completes_the_arrangement(debtor):
    customer, first, second = debtor
    arrangement = agree_arrangement(customer, [first, second], 2, today(), user=None)

    record_payment(customer, "1300.00", "bank", None, user=None)

    arrangement.refresh_from_db()
    assert arrangement.status == "completed"
    assert customer_balance(customer).open_debt == D("0.00")


@pytest.mark.django_db
def test_arrangement_input_is_checked(debtor, make_customer, make_bill):
    customer, first, second = debtor
    other = make_bill(make_customer(), "50.00", DUE)

    cases = [
        ({"bills": [first], "instalments": 1, "first_due": today()}, "instalments"),
        (
            {"bills": [first], "instalments": 3, "first_due": today() - dt.timedelta(days=1)},
            "first_due",
        ),
        ({"bills": [other], "instalments": 3, "first_due": today()}, "bills"),
        ({"bills": [], "instalments": 3, "first_due": today()}, "bills"),
    ]
    for kwargs, field in cases:
        with pytest.raises(PaymentError) as refused:
            agree_arrangement(customer, user=None, **kwargs)
        assert refused.value.field == field
    assert not PaymentArrangement.objects.exists()
    agree_arrangement(customer, [first], 2, today(), user=None)
    with pytest.raises(PaymentError, match="already in an active arrangement"):
        agree_arrangement(customer, [first, second], 2, today(), user=None)
