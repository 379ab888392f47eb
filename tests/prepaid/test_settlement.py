"""The monthly credit and settlement: credit, bonus, shortfalls, 15 days, auto-debit, refund."""

from datetime import date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from voltdesk.billing.debts import charge_late_fees
from voltdesk.billing.models import Bill, Payment, PaymentAllocation, TariffRate, TariffVersion
from voltdesk.notifications.models import Message
from voltdesk.prepaid import services
from voltdesk.prepaid.models import AutoDebit, Package, PackageMonth
from voltdesk.prepaid.settlement import settle_month

from .conftest import SHANGHAI, active_package, issue_bill

D = Decimal
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
SETTLED = date(2026, 12, 5)  # the run after November's bills are issued


def test_credit_and_bonus_pay_the_bill_and_leave_credit(household):
    customer = household([250] * 12)
    package = active_package(customer, NOV)  # 100.00 a month, bonus 1 % = 1.00
    bill = issue_bill(customer, NOV, "80.00")
    figures = settle_month(NOV, as_of=SETTLED)
    assert figures["packages_credited"] == 1 and figures["shortfalls"] == 0
    row = PackageMonth.objects.get(package=package, month=NOV)
    # Credit 100.00 + 1.00 = 101.00; the 80.00 bill is paid from it, 21.00 stays as credit.
    assert (row.amount, row.bonus, row.deducted, row.shortfall) == (D(100), D(1), D(80), D(0))
    assert row.payment.amount == D("101.00") and row.payment.method == "prepaid"
    bill.refresh_from_db()
    assert bill.paid == D("80.00")
    assert PaymentAllocation.objects.get(bill=bill).amount == D("80.00")
    assert Payment.objects.get(pk=row.payment_id).allocated == D("80.00")  # 21.00 left as credit
    assert not Message.objects.exists()


def test_shortfall_sms_and_fifteen_days_without_late_fee(household):
    customer = household([250] * 12)
    active_package(customer, NOV)
    issue_bill(customer, NOV, "80.00")
    settle_month(NOV, as_of=SETTLED)  # 21.00 left as credit
    # December: 150.00, due 2 January. Credit 21.00 (November's left) + 101.00 = 122.00 paid;
    # shortfall 150.00 - 122.00 = 28.00, to pay by 5 January + 15 days = 20 January.
    dec = issue_bill(customer, DEC, "150.00", due=date(2027, 1, 2))
    figures = settle_month(DEC, as_of=date(2027, 1, 5))
    assert figures["shortfalls"] == 1 and figures["sms"] == 1
    row = PackageMonth.objects.get(month=DEC)
    assert row.deducted == D("122.00") and row.shortfall == D("28.00")
    assert row.pay_by == date(2027, 1, 20)
    sms = Message.objects.get(customer=customer, template="prepaid_shortfall")
    assert sms.channel == "sms" and sms.language == "zh-hans"
    assert "28.00" in sms.body and "2027-01-20" in sms.body
    # Day 14 and day 15 after the settlement: no late fee; day 16: one day on 28.00 at
    # cn's 0.1 % a day = 0.028 -> 0.03.
    assert charge_late_fees(date(2027, 1, 19))["late_fees"] == 0
    assert charge_late_fees(date(2027, 1, 20))["late_fees"] == 0
    figures = charge_late_fees(date(2027, 1, 21))
    assert figures["late_fees"] == 1 and figures["amount"] == D("0.03")
    fee = Bill.objects.get(kind="late_fee", corrects=dec)
    assert fee.period_start == date(2027, 1, 20)


def test_running_twice_credits_and_tells_once(household):
    customer = household([250] * 12)
    active_package(customer, NOV)
    issue_bill(customer, NOV, "130.00")
    settle_month(NOV, as_of=SETTLED)
    again = settle_month(NOV, as_of=SETTLED)
    assert again["packages_credited"] == 0 and again["sms"] == 0
    assert Payment.objects.filter(method="prepaid").count() == 1
    assert Message.objects.count() == 1


def _bind(customer, card):
    return services.bind_mandate(customer, "Li Lei", card, user=None)


def test_auto_debit_takes_the_shortfall(household, django_capture_on_commit_callbacks):
    customer = household([250] * 12)
    active_package(customer, NOV)
    bill = issue_bill(customer, NOV, "130.00")
    _bind(customer, "4242 4242 4242 4242")
    with django_capture_on_commit_callbacks(execute=True):
        figures = settle_month(NOV, as_of=SETTLED)
    # 130.00 - 101.00 = 29.00 asked of the bank, which answers later: debited.
    assert figures["auto_debits"] == 1
    debit = AutoDebit.objects.get()
    assert debit.amount == D("29.00") and debit.status == "succeeded"
    bill.refresh_from_db()
    assert bill.paid == bill.total
    assert Payment.objects.get(method="debit").amount == D("29.00")
    sms = Message.objects.get(template="prepaid_shortfall_debit")
    assert "4242" in sms.body and "29.00" in sms.body


def test_failed_auto_debit_sends_an_sms_and_keeps_the_fifteen_days(
    household, django_capture_on_commit_callbacks
):
    customer = household([250] * 12)
    active_package(customer, NOV)
    bill = issue_bill(customer, NOV, "130.00", due=date(2026, 12, 3))
    _bind(customer, "4000 0000 0000 0002")
    with django_capture_on_commit_callbacks(execute=True):
        settle_month(NOV, as_of=SETTLED)
    debit = AutoDebit.objects.get()
    assert debit.status == "failed"
    failed = Message.objects.get(template="prepaid_debit_failed")
    assert "29.00" in failed.body and "2026-12-20" in failed.body
    bill.refresh_from_db()
    assert bill.total - bill.paid == D("29.00")
    assert charge_late_fees(date(2026, 12, 19))["late_fees"] == 0
    assert charge_late_fees(date(2026, 12, 21))["late_fees"] == 1


def test_move_out_refund(household):
    # 12 x 100.00 bought; November to March credited (5 months, 1.00 bonus each); moving out
    # in March: April to October (7 months) come back: 7 x 100.00 - 5 x 1.00 = 695.00.
    customer = household([250] * 12)
    package = active_package(customer, NOV)
    month = NOV
    for _ in range(5):
        issue_bill(customer, month, "90.00")
        settle_month(month, as_of=services.add_months(month, 1))
        month = services.add_months(month, 1)
    with mock.patch("voltdesk.prepaid.services.today", return_value=date(2027, 3, 20)):
        refund = services.request_refund(customer, package, date(2027, 3, 25), user=None)
    assert (refund.months_unused, refund.unused_amount, refund.bonus_received) == (
        7,
        D("700.00"),
        D("5.00"),
    )
    assert refund.amount == D("695.00")
    package.refresh_from_db()
    assert package.status == "ended" and package.last_month == date(2027, 3, 1)
    issue_bill(customer, date(2027, 4, 1), "90.00")
    assert settle_month(date(2027, 4, 1))["packages_credited"] == 0


def test_tariff_change_mid_year_keeps_the_package_amount(household):
    # The package was priced on the old prices; from December tier 1 costs 0.6000: the
    # offer now prices higher, the package keeps 100.00 a month and the overrun absorbs it.
    customer = household([250] * 12)
    package = active_package(customer, NOV)
    old = TariffVersion.objects.get(tariff__name="Residential tiered")
    old.valid_to = DEC
    old.save()
    new = TariffVersion.objects.create(
        tariff=old.tariff, valid_from=DEC, tier_basis="annual", vat_rate=D(0)
    )
    for upper, price in [(D(2160), "0.6000"), (D(4200), "0.7000"), (None, "0.9000")]:
        TariffRate.objects.create(version=new, up_to_kwh=upper, price=D(price))
    assert services.offer_levels(customer, date(2026, 12, 10)).levels[0].monthly_amount > 100
    # December: 250 kWh x 0.6000 = 150.00 billed on the new prices; 101.00 credited.
    issue_bill(customer, DEC, "150.00")
    settle_month(DEC, as_of=date(2027, 1, 5))
    package.refresh_from_db()
    assert package.monthly_amount == D("100.00")
    assert PackageMonth.objects.get(month=DEC).shortfall == D("49.00")


def test_bought_mid_month_starts_next_month(household, django_capture_on_commit_callbacks):
    customer = household([250] * 12)
    purchase = services.buy_package(customer, "80", "key-1", user=None, as_of=date(2026, 11, 15))
    assert purchase.package.status == "awaiting" and purchase.package.annual_price == D(1200)
    paid_at = datetime(2026, 11, 15, 14, 0, tzinfo=SHANGHAI)
    with (
        mock.patch.object(timezone, "now", return_value=paid_at),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.sandbox_card_chosen(purchase.package.provider_ref, "4242 4242 4242 4242")
    package = Package.objects.get()
    # Paid on 15 November: the year is December 2026 to November 2027, no pro-rata month.
    assert package.status == "active"
    assert (package.first_month, package.last_month) == (DEC, date(2027, 11, 1))
    issue_bill(customer, NOV, "80.00")
    assert settle_month(NOV, as_of=SETTLED)["packages_credited"] == 0


def test_declined_purchase_and_double_purchase(household, django_capture_on_commit_callbacks):
    customer = household([250] * 12)
    first = services.buy_package(customer, "100", "key-a", user=None)
    # The same key (a double click) answers the same purchase.
    assert services.buy_package(customer, "100", "key-a", user=None).package == first.package
    with pytest.raises(services.PrepaidError) as err:
        services.buy_package(customer, "120", "key-b", user=None)
    assert err.value.code == "conflict"
    with django_capture_on_commit_callbacks(execute=True):
        services.sandbox_card_chosen(first.package.provider_ref, "4000 0000 0000 0002")
    first.package.refresh_from_db()
    assert first.package.status == "failed"
    # After a declined payment the household may buy again.
    assert services.buy_package(customer, "120", "key-c", user=None).created


def test_forged_webhook_is_refused(household):
    from voltdesk.billing.gateway import SIGNATURE_HEADER, WebhookRejected

    customer = household([250] * 12)
    package = services.buy_package(customer, "100", "key-x", user=None).package
    with pytest.raises(WebhookRejected):
        services.receive_purchase_webhook(
            b'{"id":"e","type":"payment.succeeded","data":{"provider_ref":"%s","amount":"1560"}}'
            % package.provider_ref.encode(),
            {SIGNATURE_HEADER: "t=1,v1=00"},
        )
    package.refresh_from_db()
    assert package.status == "awaiting"


def test_command(household, capsys):
    customer = household([250] * 12)
    active_package(customer, NOV)
    issue_bill(customer, NOV, "130.00")
    call_command("prepaid_month", "--month", "2026-11")
    out = capsys.readouterr().out
    assert "2026-11: 1 packages credited" in out and "1 shortfalls" in out
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("prepaid_month", "--month", "11/2026")


def test_demo_household_lives_a_month_over_its_package(household):
    from voltdesk.prepaid.demo import seed_prepaid_demo

    # 3,000 kWh a year: levels 100.00 / 130.00 / 155.00 / 200.00 a month (+1 %). November's
    # bill is 150.00: the highest level credited below it is 130.00 + 1.30 = 131.30, so the
    # shortfall is 150.00 - 131.30 = 18.70, to pay by 3 December + 15 days.
    customer = household([250] * 12)
    bill = issue_bill(customer, NOV, "150.00", due=date(2026, 12, 17))
    package = seed_prepaid_demo(customer, date(2026, 12, 3))
    assert package.status == "active" and package.monthly_amount == D("130.00")
    assert package.first_month == NOV
    row = PackageMonth.objects.get(package=package)
    assert row.shortfall == D("18.70") and row.pay_by == date(2026, 12, 18)
    assert "18.70" in Message.objects.get(template="prepaid_shortfall").body
    assert charge_late_fees(date(2026, 12, 18))["late_fees"] == 0
    bill.refresh_from_db()
    assert bill.paid == D("131.30")


def test_webhook_route_checks_the_signature(household):
    import json
    import time

    from ninja.testing import TestClient

    from voltdesk.billing.gateway import SIGNATURE_HEADER, gateway_secret, sign
    from voltdesk.prepaid.api import router

    customer = household([250] * 12)
    package = services.buy_package(customer, "100", "key-w", user=None).package
    client = TestClient(router)
    body = json.dumps(services.purchase_event(package, "success")).encode()
    bad = client.post("/prepaid/webhook/sandbox", data=body, headers={SIGNATURE_HEADER: "t=1"})
    assert bad.status_code == 400
    header = sign(gateway_secret(), body, int(time.time()))
    ok = client.post("/prepaid/webhook/sandbox", data=body, headers={SIGNATURE_HEADER: header})
    assert ok.status_code == 200 and ok.json() == {"received": True, "duplicate": False}
    again = client.post("/prepaid/webhook/sandbox", data=body, headers={SIGNATURE_HEADER: header})
    assert again.json()["duplicate"] is True
    package.refresh_from_db()
    assert package.status == "active"
