"""The lounge's payments: what I paid and where it went, and "pay now" through the sandbox.

Figures are conftest's: September's bill is 2,557.06 with 1,000.00 paid (1,557.06
open, overdue); October's 53.69 is open and not yet due. Acme's open debt is
1,557.06 + 53.69 = 1,610.75. Blue Bakery's bill is 3,277.45, all open.
"""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models import F
from django.urls import reverse

from tests.lounge.conftest import JERUSALEM, make_bill
from voltdesk.billing import gateway
from voltdesk.billing.models import Bill, OnlinePayment, Payment
from voltdesk.billing.payments import record_payment
from voltdesk.core.models import AuditEntry

D = Decimal
SEPTEMBER = "B2026-09-000001"
OCTOBER = "B2026-10-000001"
BAKERY = "B2026-09-000002"
GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000 0000 0000 0002"


def _open(number) -> Decimal:
    return Bill.objects.get(number=number).open_amount


def _pay(client, amount, key="form-1", bill=None):
    data = {"idempotency_key": key, "amount": amount}
    if bill:
        data["bill"] = bill
    return client.post(reverse("portal:pay"), data)


def _card(client, redirect_url, card, capture):
    """The cardholder on the sandbox's page: the bank answers by signed webhook, on commit."""
    query = parse_qs(urlsplit(redirect_url).query)
    with capture(execute=True):
        return client.post(redirect_url, {"card": card, "return": query["return"][0]})


# What I paid -----------------------------------------------------------------------


def test_payments_are_listed_newest_first_with_the_bills_each_settled(lounge, client_for):
    """Oldest debt first: September (due 23 Oct) before October.

    10 Nov, bank transfer 500.00: all to September (1,557.06 open -> 1,057.06).
    20 Nov, cash 1,100.00: 1,057.06 to September, then 1,100.00 - 1,057.06 = 42.94
    to October (53.69 -> 10.75 open).
    """
    record_payment(
        lounge.acme,
        "500.00",
        "bank",
        dt.datetime(2026, 11, 10, 10, 0, tzinfo=JERUSALEM),
        "TRF-1",
        user=None,
    )
    record_payment(
        lounge.acme,
        "1100.00",
        "cash",
        dt.datetime(2026, 11, 20, 10, 0, tzinfo=JERUSALEM),
        user=None,
    )

    response = client_for(lounge.finance).get(reverse("portal:payments"))

    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('id="my-payments"') : html.index("</table>", html.index("my-payments"))]
    rows = table.split("<tr data-payment=")[1:]
    assert len(rows) == 2
    cash_row, bank_row = rows  # newest first
    assert "₪1,100.00" in cash_row and "₪500.00" in bank_row
    assert "11/20/2026" in cash_row and "Cash at a service hall" in cash_row
    assert f'{SEPTEMBER}</a>: <bdi class="vd-number">₪1,057.06<' in cash_row
    assert f'{OCTOBER}</a>: <bdi class="vd-number">₪42.94<' in cash_row
    assert "11/10/2026" in bank_row and "Bank transfer" in bank_row
    assert f'{SEPTEMBER}</a>: <bdi class="vd-number">₪500.00<' in bank_row
    assert OCTOBER not in bank_row
    assert (_open(SEPTEMBER), _open(OCTOBER)) == (D("0.00"), D("10.75"))


def test_money_left_over_is_shown_as_credit(lounge, client_for):
    """2,000.00 against 1,610.75 open: 2,000.00 - 1,610.75 = 389.25 kept as credit."""
    record_payment(
        lounge.acme, "2000.00", "bank", dt.datetime(2026, 11, 10, tzinfo=JERUSALEM), user=None
    )

    html = client_for(lounge.admin).get(reverse("portal:payments")).content.decode()

    assert "Kept as credit for your next bills" in html and "₪389.25" in html


def test_no_payments_yet_says_so(lounge, client_for):
    html = client_for(lounge.admin).get(reverse("portal:payments")).content.decode()

    assert 'id="no-payments"' in html
    assert 'href="/portal/payments/"' in html  # the menu's link, next to Bills


def test_another_company_s_payments_and_online_payments_stay_hidden(
    lounge, client_for, django_capture_on_commit_callbacks
):
    record_payment(
        lounge.bakery, "777.77", "bank", dt.datetime(2026, 11, 10, tzinfo=JERUSALEM), user=None
    )
    bakery = client_for(lounge.bakery_owner)
    started = _pay(bakery, "2499.68", key="bakery-1")  # 3,277.45 - 777.77 still open
    _card(bakery, started["Location"], DECLINED_CARD, django_capture_on_commit_callbacks)
    ref = OnlinePayment.objects.get(customer=lounge.bakery).provider_ref

    acme = client_for(lounge.admin)
    html = acme.get(reverse("portal:payments")).content.decode()

    assert "777.77" not in html and BAKERY not in html and "2,499.68" not in html
    assert ref not in html
    assert acme.get(reverse("portal:online_payment", args=[ref])).status_code == 404
    # The bakery itself sees both.
    own = bakery.get(reverse("portal:payments")).content.decode()
    assert "₪777.77" in own and ref in own


def test_an_energy_manager_gets_403_and_no_menu_link(lounge, client_for):
    client = client_for(lounge.energy_manager)
    audit = AuditEntry.objects.count()

    assert client.get(reverse("portal:payments")).status_code == 403
    assert _pay(client, "1610.75").status_code == 403
    assert 'href="/portal/payments/"' not in client.get(reverse("portal:home")).content.decode()
    assert not OnlinePayment.objects.exists() and AuditEntry.objects.count() == audit


def test_anonymous_goes_to_log_in(lounge, client_for):
    response = client_for().get(reverse("portal:payments"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# Pay now ----------------------------------------------------------------------------


def test_the_bills_list_offers_the_whole_open_debt_with_a_fresh_key_each_time(lounge, client_for):
    client = client_for(lounge.admin)

    first = client.get(reverse("portal:bills")).content.decode()
    second = client.get(reverse("portal:bills")).content.decode()

    assert 'id="pay-now"' in first
    assert '<input type="hidden" name="amount" value="1610.75">' in first
    assert "Pay now: <bdi>₪1,610.75</bdi>" in first

    def key(html):
        marker = 'name="idempotency_key" value="'
        start = html.index(marker) + len(marker)
        return html[start : html.index('"', start)]

    assert key(first) and key(first) != key(second)


def test_a_bill_page_offers_its_open_amount_and_a_paid_bill_none(lounge, client_for):
    Bill.objects.filter(number=OCTOBER).update(paid=D("53.69"))
    client = client_for(lounge.admin)

    september = client.get(reverse("portal:bill", args=[SEPTEMBER])).content.decode()
    october = client.get(reverse("portal:bill", args=[OCTOBER])).content.decode()

    assert 'name="amount" id="pay-amount" value="1557.06"' in september
    assert f'name="bill" value="{SEPTEMBER}"' in september
    assert 'id="pay-now"' not in october


def test_an_open_credit_note_lowers_what_pay_now_asks(
    lounge, client_for, django_capture_on_commit_callbacks
):
    """A credit note of -53.69 for October, not yet spent: 1,610.75 - 53.69 = 1,557.06.

    When the money arrives the note pays October and the 1,557.06 pays September:
    nothing left open, nothing left over as credit.
    """
    make_bill(
        lounge.acme,
        "C2026-10-000001",
        start=dt.date(2026, 10, 1),
        kind="credit_note",
        corrects=lounge.october,
        total=D("-53.69"),
        net_amount=D("-45.50"),
        vat_amount=D("-8.19"),
    )
    client = client_for(lounge.admin)

    html = client.get(reverse("portal:bills")).content.decode()
    assert '<input type="hidden" name="amount" value="1557.06">' in html
    started = _pay(client, "1557.06")
    _card(client, started["Location"], GOOD_CARD, django_capture_on_commit_callbacks)

    assert (_open(SEPTEMBER), _open(OCTOBER)) == (D("0.00"), D("0.00"))
    assert Payment.objects.get().unallocated == D("0.00")


def test_pay_now_sends_the_cardholder_to_the_sandbox_page_and_back_to_the_payment(
    lounge, client_for
):
    client = client_for(lounge.admin)

    response = _pay(client, "1610.75")

    online = OnlinePayment.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(f"/sandbox-pay/{online.provider_ref}/?return=")
    back = parse_qs(urlsplit(response["Location"]).query)["return"][0]
    assert back == f"http://testserver/portal/payments/online/{online.provider_ref}/"
    assert (online.status, online.amount, online.created_by) == (
        "pending",
        D("1610.75"),
        lounge.admin,
    )
    assert sorted(online.bills.values_list("number", flat=True)) == [SEPTEMBER, OCTOBER]
    page = client.get(response["Location"])
    assert page.status_code == 200 and "1610.75" in page.content.decode()


def test_the_same_form_sent_twice_starts_one_payment(lounge, client_for):
    client = client_for(lounge.admin)

    first = _pay(client, "1557.06", key="double-click", bill=SEPTEMBER)
    second = _pay(client, "1557.06", key="double-click", bill=SEPTEMBER)

    assert OnlinePayment.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_form_sent_again_after_its_payment_ended_shows_how_it_ended(
    lounge, client_for, django_capture_on_commit_callbacks
):
    client = client_for(lounge.admin)
    started = _pay(client, "1610.75", key="once")
    _card(client, started["Location"], GOOD_CARD, django_capture_on_commit_callbacks)

    again = _pay(client, "1610.75", key="once")  # the bills are paid by now

    ref = OnlinePayment.objects.get().provider_ref
    assert again.status_code == 302
    assert again["Location"] == reverse("portal:online_payment", args=[ref])
    assert OnlinePayment.objects.count() == 1 and Payment.objects.count() == 1


def test_only_the_signed_webhook_settles_and_then_the_page_says_paid(
    lounge, client_for, django_capture_on_commit_callbacks
):
    """500.00 of September's 1,557.06: 1,557.06 - 500.00 = 1,057.06 left to pay."""
    client = client_for(lounge.admin)
    started = _pay(client, "500.00", bill=SEPTEMBER)
    online = OnlinePayment.objects.get()
    page = reverse("portal:online_payment", args=[online.provider_ref])

    # Coming back without the bank's answer proves nothing: still waiting, nothing paid.
    waiting = client.get(page).content.decode()
    assert 'data-status="pending"' in waiting and "Waiting for your bank" in waiting
    assert 'hx-trigger="every 2s"' in waiting
    assert _open(SEPTEMBER) == D("1557.06") and not Payment.objects.exists()

    back = _card(client, started["Location"], GOOD_CARD, django_capture_on_commit_callbacks)

    assert back.status_code == 302 and back["Location"].endswith(page)
    html = client.get(page).content.decode()
    assert "Paid: the money was received." in html
    assert "hx-trigger" not in html  # settled: the poll stops
    assert f'<tr data-bill="{SEPTEMBER}">' in html
    assert 'data-figure="left">₪1,057.06<' in html
    assert _open(SEPTEMBER) == D("1057.06")
    payment = Payment.objects.get()
    assert (payment.method, payment.amount) == ("online", D("500.00"))
    listed = client.get(reverse("portal:payments")).content.decode()
    assert "Online (card)" in listed and "₪500.00" in listed
    # The bills list's open debt: 1,610.75 - 500.00 = 1,110.75.
    bills = client.get(reverse("portal:bills")).content.decode()
    assert 'data-figure="open-debt">₪1,110.75<' in bills


def test_the_poll_gets_the_status_block_alone(lounge, client_for):
    client = client_for(lounge.admin)
    _pay(client, "1610.75")
    page = reverse("portal:online_payment", args=[OnlinePayment.objects.get().provider_ref])

    response = client.get(page, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="online-status" data-status="pending"')
    assert "<nav" not in html


def test_a_declined_card_leaves_the_debt(lounge, client_for, django_capture_on_commit_callbacks):
    client = client_for(lounge.admin)
    started = _pay(client, "1610.75")

    _card(client, started["Location"], DECLINED_CARD, django_capture_on_commit_callbacks)

    online = OnlinePayment.objects.get()
    assert online.status == "declined"
    html = client.get(reverse("portal:online_payment", args=[online.provider_ref])).content
    assert "Your bank declined the payment. No money was taken." in html.decode()
    assert (_open(SEPTEMBER), _open(OCTOBER)) == (D("1557.06"), D("53.69"))
    assert not Payment.objects.exists()
    listed = client.get(reverse("portal:payments")).content.decode()
    assert f'data-online="{online.provider_ref}" data-status="declined"' in listed
    bills = client.get(reverse("portal:bills")).content.decode()
    assert '<input type="hidden" name="amount" value="1610.75">' in bills


def test_a_payment_the_bank_never_answered_reads_timed_out(lounge, client_for):
    client = client_for(lounge.admin)
    _pay(client, "1610.75")
    online = OnlinePayment.objects.get()
    OnlinePayment.objects.filter(pk=online.pk).update(
        created_at=online.created_at - gateway.PENDING_TIMEOUT - dt.timedelta(minutes=1)
    )
    gateway.expire_online_payments()

    listed = client.get(reverse("portal:payments")).content.decode()

    assert "Your bank did not answer in time." in listed
    assert 'data-status="timed_out"' in listed


# Refused: a clear message, nothing written ------------------------------------------


@pytest.mark.parametrize(
    "data, status, words",
    [
        ({"amount": "1557.07", "bill": SEPTEMBER}, 400, "Amount: The amount is more than"),
        ({"amount": "12,50", "bill": SEPTEMBER}, 400, "Amount: Enter an amount such as 120.50."),
        ({"amount": "-5", "bill": SEPTEMBER}, 400, "Amount: The amount must be more than zero."),
        ({"amount": "10.001", "bill": SEPTEMBER}, 400, "at most two decimals"),
        ({"amount": "", "bill": SEPTEMBER}, 400, "Amount: Enter the amount to pay."),
        ({"amount": "100", "bill": BAKERY}, 404, f"None of your bills has the number {BAKERY}."),
        ({"amount": "100", "bill": "B2026-11-DRAFT"}, 404, "None of your bills has the number"),
        ({"amount": "100", "bill": SEPTEMBER, "idempotency_key": ""}, 400, "Payment form:"),
        ({"amount": "100", "bill": SEPTEMBER, "idempotency_key": "k" * 81}, 400, "Payment form:"),
    ],
)
def test_bad_pay_now_input_is_refused_and_nothing_is_written(
    lounge, client_for, data, status, words
):
    client = client_for(lounge.admin)
    audit = AuditEntry.objects.count()

    response = client.post(reverse("portal:pay"), {"idempotency_key": "k-1", **data})

    assert response.status_code == status
    assert words in response.content.decode()
    assert "Nothing was charged." in response.content.decode()
    assert not OnlinePayment.objects.exists() and AuditEntry.objects.count() == audit


def test_a_bill_already_paid_is_refused(lounge, client_for):
    Bill.objects.filter(number=OCTOBER).update(paid=D("53.69"))

    response = _pay(client_for(lounge.admin), "53.69", bill=OCTOBER)

    assert response.status_code == 400
    assert "Bill: The chosen bills are already paid." in response.content.decode()
    assert not OnlinePayment.objects.exists()


def test_no_open_debt_is_refused(lounge, client_for):
    Bill.objects.filter(customer=lounge.acme).update(paid=F("total"))

    response = _pay(client_for(lounge.admin), "10.00")

    assert response.status_code == 400
    assert "You have no open debt to pay." in response.content.decode()
    assert (
        'id="pay-now"' not in client_for(lounge.admin).get(reverse("portal:bills")).content.decode()
    )


def test_the_same_form_with_another_amount_is_refused(lounge, client_for):
    client = client_for(lounge.admin)
    _pay(client, "100.00", key="k", bill=SEPTEMBER)

    response = _pay(client, "200.00", key="k", bill=SEPTEMBER)

    assert response.status_code == 409
    assert "already sent for another amount" in response.content.decode()
    assert OnlinePayment.objects.count() == 1


def test_another_company_s_key_is_not_taken_over(lounge, client_for):
    _pay(client_for(lounge.bakery_owner), "3277.45", key="shared")

    response = _pay(client_for(lounge.admin), "1610.75", key="shared")

    assert response.status_code == 409
    assert OnlinePayment.objects.get().customer == lounge.bakery


def test_pay_takes_posts_only(lounge, client_for):
    assert client_for(lounge.admin).get(reverse("portal:pay")).status_code == 405
