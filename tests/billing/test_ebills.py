"""E-bills: the customer picks paper, e-mail or SMS; issued bills go out with a signed link.

Bills here are a single fixed-charge line: 1 month x 100.00 = 100.00, VAT 18 % = 18.00,
total 118.00.
"""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from voltdesk.billing import einvoices
from voltdesk.billing.einvoice_tasks import send_ebills as send_ebills_task
from voltdesk.billing.models import Bill, BillDelivery, BillLine
from voltdesk.core import roles
from voltdesk.notifications.models import Message

D = Decimal
JERUSALEM = ZoneInfo("Asia/Jerusalem")


def make_bill(customer, number, *, status="issued", issued_at=None, month=11):
    start, end = dt.date(2026, month, 1), dt.date(2026, month + 1, 1)
    contract = customer.contracts.first()
    bill = Bill.objects.create(
        number=number,
        kind="bill",
        status=status,
        customer=customer,
        contract=contract,
        site=contract.site,
        period_start=start,
        period_end=end,
        currency="ILS",
        net_amount=D("100.00"),
        vat_amount=D("18.00"),
        total=D("118.00"),
        issued_at=issued_at or (timezone.now() if status == "issued" else None),
        due_date=dt.date(2026, 12, 18),
    )
    BillLine.objects.create(
        bill=bill, position=1, kind="fixed", covers_from=start, covers_to=end,
        quantity=D("1"), unit="month", unit_price=D("100.00"), amount=D("100.00"),
    )  # fmt: skip
    return bill


@pytest.fixture
def households(utility, make_customer, make_user):
    by_mail = make_customer(name="Dana Levi", kind="residential", language="en")
    by_sms = make_customer(name="Avi Cohen", kind="residential", language="he")
    on_paper = make_customer(name="Noa Katz", kind="residential", language="en")
    users = {
        c.name: make_user(roles.CUSTOMER, customer=c, company_role="holder")
        for c in (by_mail, by_sms, on_paper)
    }
    return by_mail, by_sms, on_paper, users


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _link_path(body: str) -> str:
    """The bill link in a message, as a path the test client can open."""
    start = body.index("/portal/e-bill/")
    end = body.index(".pdf", start) + len(".pdf")
    return body[start:end]


# The choice


def test_customer_chooses_email_then_sms_then_paper(households):
    by_mail, _sms, _paper, users = households
    client = _client(users["Dana Levi"])
    url = reverse("portal:ebills")

    assert "on paper, by post" in client.get(url).content.decode()  # nobody chose yet
    client.post(url, {"channel": "email", "address": "dana@example.com"})
    assert BillDelivery.objects.get(customer=by_mail).address == "dana@example.com"
    client.post(url, {"channel": "sms", "address": "050-123-4567"})
    delivery = BillDelivery.objects.get(customer=by_mail)
    assert (delivery.channel, delivery.address) == ("sms", "+972501234567")  # il: E.164
    page = client.post(url, {"channel": "paper", "address": ""}, follow=True)
    assert BillDelivery.objects.get(customer=by_mail).channel == "paper"
    assert "Your choice is saved." in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "email", "address": ""}, "address: give the e-mail address bills go to."),
        ({"channel": "email", "address": "not-an-address"}, "not-an-address is not an e-mail"),
        ({"channel": "sms", "address": "12"}, "12 is not a phone number"),
        ({"channel": "fax", "address": "x"}, "Select a valid choice"),
    ],
)
def test_a_bad_choice_is_refused_with_its_field_and_nothing_changes(households, data, message):
    by_mail, _sms, _paper, users = households
    einvoices.choose_bill_delivery(by_mail, "email", "dana@example.com")

    page = _client(users["Dana Levi"]).post(reverse("portal:ebills"), data)

    assert page.status_code == 400
    assert message in page.content.decode()
    delivery = BillDelivery.objects.get(customer=by_mail)
    assert (delivery.channel, delivery.address) == ("email", "dana@example.com")


def test_another_customers_user_sees_only_its_own_choice(households):
    by_mail, _sms, _paper, users = households
    einvoices.choose_bill_delivery(by_mail, "email", "dana@example.com")

    page = _client(users["Noa Katz"]).get(reverse("portal:ebills")).content.decode()

    assert "dana@example.com" not in page
    assert 'data-channel="paper"' in page


def test_energy_manager_may_not_choose_where_bills_go(utility, make_customer, make_user):
    business = make_customer(name="Acme")
    energy = make_user(roles.CUSTOMER, customer=business, company_role="energy_manager")

    assert _client(energy).get(reverse("portal:ebills")).status_code == 403
    assert Client().get(reverse("portal:ebills")).status_code == 302


# Sending after issue


def test_issued_bills_of_ebill_customers_go_out_once_with_a_working_link(households):
    by_mail, by_sms, on_paper, _users = households
    einvoices.choose_bill_delivery(by_mail, "email", "dana@example.com")
    einvoices.choose_bill_delivery(by_sms, "sms", "+972501234567")
    mail_bill = make_bill(by_mail, "B2026-11-000001")
    sms_bill = make_bill(by_sms, "B2026-11-000002")
    make_bill(on_paper, "B2026-11-000003")
    make_bill(by_mail, "B2026-10-DRAFT", status="draft", month=10)

    queued = send_ebills_task()
    again = send_ebills_task()

    assert (queued, again) == (2, 0)
    mail = Message.objects.get(customer=by_mail)
    sms = Message.objects.get(customer=by_sms)
    assert (mail.channel, mail.address, mail.template) == ("email", "dana@example.com", "ebill")
    assert "B2026-11-000001" in mail.subject
    assert "₪118.00" in mail.body  # 100.00 + 18 % VAT
    assert (sms.channel, sms.address, sms.language) == ("sms", "+972501234567", "he")
    assert not Message.objects.filter(customer=on_paper).exists()
    # The link opens the bill, without logging in.
    for message, bill in ((mail, mail_bill), (sms, sms_bill)):
        response = Client().get(_link_path(message.body))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert bill.number in _text(response.content)


def test_bills_issued_before_the_window_are_not_sent_again(households):
    by_mail, *_rest = households
    einvoices.choose_bill_delivery(by_mail, "email", "dana@example.com")
    make_bill(by_mail, "B2026-05-000001", month=5, issued_at=timezone.now() - dt.timedelta(days=30))

    assert einvoices.send_ebills() == 0


def test_a_tampered_or_expired_link_is_404(households, monkeypatch):
    by_mail, by_sms, _paper, _users = households
    mine = make_bill(by_mail, "B2026-11-000001")
    theirs = make_bill(by_sms, "B2026-11-000002")
    token = einvoices.bill_link_token(mine)
    good = reverse("portal:ebill_link", args=[token])
    assert Client().get(good).status_code == 200

    # One character changed, or a token naming another bill that we did not sign.
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    forged = signing.dumps({"b": theirs.pk, "c": by_mail.pk}, salt="not-ours", compress=True)
    for bad in (flipped, forged, "nonsense"):
        assert Client().get(reverse("portal:ebill_link", args=[bad])).status_code == 404

    monkeypatch.setattr(einvoices, "LINK_MAX_AGE", dt.timedelta(seconds=-1))
    assert Client().get(good).status_code == 404


def test_a_link_never_shows_another_customers_bill_or_a_draft(households):
    by_mail, by_sms, _paper, _users = households
    theirs = make_bill(by_sms, "B2026-11-000002")
    draft = make_bill(by_mail, "B2026-10-DRAFT", status="draft", month=10)
    # A validly signed token whose customer does not own the bill, and one for a draft.
    mismatched = signing.dumps(
        {"b": theirs.pk, "c": by_mail.pk}, salt=einvoices._SALT, compress=True
    )

    assert Client().get(reverse("portal:ebill_link", args=[mismatched])).status_code == 404
    draft_link = reverse("portal:ebill_link", args=[einvoices.bill_link_token(draft)])
    assert Client().get(draft_link).status_code == 404


def test_a_customer_whose_address_went_bad_is_skipped_and_the_others_are_sent(households):
    by_mail, by_sms, _paper, _users = households
    einvoices.choose_bill_delivery(by_mail, "email", "dana@example.com")
    BillDelivery.objects.create(customer=by_sms, channel="sms", address="garbage")
    make_bill(by_mail, "B2026-11-000001")
    make_bill(by_sms, "B2026-11-000002")

    assert einvoices.send_ebills() == 1
    assert Message.objects.filter(customer=by_mail).count() == 1
