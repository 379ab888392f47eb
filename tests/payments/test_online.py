"""Online payment end to end through the sandbox gateway, its signed webhook and timeouts."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest

from voltdesk.api.services import issue_token
from voltdesk.billing import gateway
from voltdesk.billing.models import GatewayEvent, OnlinePayment, Payment
from voltdesk.core import roles

D = Decimal
DUE = dt.date(2026, 3, 1)
WEBHOOK = "/api/v1/payments/webhook/sandbox"


@pytest.fixture
def payer(make_customer, make_bill, make_user):
    customer = make_customer(name="Alpha Plastics")
    bill = make_bill(customer, "236.00", DUE)
    user = make_user(roles.CUSTOMER, customer=customer, company_role="finance")
    return customer, bill, issue_token(user, "test").key


def start(client, key, bills, idem="key-1", **body):
    return client.post(
        "/api/v1/payments/online",
        json.dumps({"bills": [b.number for b in bills], **body}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
    )


def signed(client, event: dict, *, at=None, secret=None, raw=None):
    body = raw if raw is not None else json.dumps(event).encode()
    header = gateway.sign(secret or gateway.gateway_secret(), body, int(at or time.time()))
    return client.post(
        WEBHOOK, body, content_type="application/json", headers={"X-Sandbox-Signature": header}
    )


@pytest.mark.django_db
def test_pay_a_bill_online_from_start_to_allocation(
    client, payer, django_capture_on_commit_callbacks
):
    customer, bill, key = payer

    answer = start(client, key, [bill], return_url="/portal/")
    assert answer.status_code == 201, answer.content
    url = answer.json()["redirect_url"]
    assert url.startswith("/sandbox-pay/sbx_")
    page = client.get(url)
    assert page.status_code == 200
    assert "236.00" in page.content.decode()
    assert "Alpha Plastics" not in page.content.decode()  # the provider's page knows no names

    with django_capture_on_commit_callbacks(execute=True):
        back = client.post(url, {"card": "4242 4242 4242 4242", "return": "/portal/"})

    assert back.status_code == 302 and back["Location"] == "/portal/"
    online = OnlinePayment.objects.get()
    payment = Payment.objects.get()
    bill.refresh_from_db()
    assert (online.status, payment.method, payment.amount) == ("succeeded", "online", D("236.00"))
    assert payment.online_payment == online
    assert bill.open_amount == D("0.00")
    assert GatewayEvent.objects.get().kind == "payment.succeeded"
    # The page now says it is finished and takes no second card.
    assert "already finished" in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_double_click_starts_one_payment_and_charges_once(
    client, payer, django_capture_on_commit_callbacks
):
    customer, bill, key = payer

    first = start(client, key, [bill], idem="click-1")
    second = start(client, key, [bill], idem="click-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["redirect_url"] == second.json()["redirect_url"]
    assert OnlinePayment.objects.count() == 1
    url = first.json()["redirect_url"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"card": "4242424242424242"})
        client.post(url, {"card": "4242424242424242"})
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_for_another_amount_is_refused(client, payer):
    customer, bill, key = payer
    start(client, key, [bill], idem="k", amount="100.00")

    answer = start(client, key, [bill], idem="k", amount="50.00")

    assert answer.status_code == 409
    assert OnlinePayment.objects.count() == 1


@pytest.mark.django_db
def test_missing_idempotency_key_is_named(client, payer):
    customer, bill, key = payer
    answer = client.post(
        "/api/v1/payments/online",
        json.dumps({"bills": [bill.number]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not OnlinePayment.objects.exists()


@pytest.mark.django_db
def test_more_than_is_open_is_refused(client, payer):
    customer, bill, key = payer

    answer = start(client, key, [bill], amount="236.01")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "amount"


@pytest.fixture
def pending(client, payer):
    customer, bill, key = payer
    start(client, key, [bill])
    return OnlinePayment.objects.get()


@pytest.mark.django_db
def test_a_repeated_webhook_records_one_payment(client, pending):
    event = gateway.sandbox_event(pending, "success")

    answers = [signed(client, event), signed(client, event)]

    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True]
    assert Payment.objects.count() == 1 and GatewayEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_retry_with_another_event_id_still_pays_once(client, pending):
    event = gateway.sandbox_event(pending, "success")
    retry = {**event, "id": "evt_manual_retry"}

    signed(client, event)
    signed(client, retry)

    assert Payment.objects.count() == 1
    assert Payment.objects.get().allocated == D("236.00")


def nothing_written():
    return not (GatewayEvent.objects.exists() or Payment.objects.exists())


@pytest.mark.django_db
def test_bad_signature_stale_timestamp_and_malformed_json_are_400(client, pending):
    event = gateway.sandbox_event(pending, "success")
    body = json.dumps(event).encode()

    cases = {
        "wrong secret": signed(client, event, secret="not-the-secret"),
        "stale": signed(client, event, at=time.time() - 301),
        "future": signed(client, event, at=time.time() + 301),
        "malformed": signed(client, {}, raw=b'{"id": "evt_1", "type":'),
        "no provider_ref": signed(client, {"id": "e", "type": "payment.succeeded", "data": {}}),
        "unknown payment": signed(
            client, {**event, "data": {**event["data"], "provider_ref": "sbx_nobody"}}
        ),
        "wrong amount": signed(client, {**event, "data": {**event["data"], "amount": "1.00"}}),
        "missing": client.post(WEBHOOK, body, content_type="application/json"),
        "garbage header": client.post(
            WEBHOOK, body, content_type="application/json", headers={"X-Sandbox-Signature": "x"}
        ),
    }

    for name, answer in cases.items():
        assert answer.status_code == 400, name
        assert answer.json()["detail"], name
    assert nothing_written()
    pending.refresh_from_db()
    assert pending.status == "pending"


@pytest.mark.django_db
def test_a_body_changed_after_signing_is_refused(client, pending):
    event = gateway.sandbox_event(pending, "success")
    body = json.dumps(event).encode()
    header = gateway.sign(gateway.gateway_secret(), body, int(time.time()))

    answer = client.post(
        WEBHOOK,
        body.replace(b"236.00", b"236.0"),
        content_type="application/json",
        headers={"X-Sandbox-Signature": header},
    )

    assert answer.status_code == 400 and nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("card", "status", "reason"),
    [("4000000000000002", "declined", "card_declined"), ("4000000000000119", "timed_out", "")],
)
def test_declined_and_timed_out_cards_pay_nothing(
    client, pending, django_capture_on_commit_callbacks, card, status, reason
):
    url = f"/sandbox-pay/{pending.provider_ref}/"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"card": card})

    pending.refresh_from_db()
    assert pending.status == status
    assert pending.failure_reason
    if reason:
        assert pending.failure_reason == reason
    assert not Payment.objects.exists()
    assert pending.customer.bills.get().paid == D("0.00")


@pytest.mark.django_db
def test_a_success_after_a_decline_is_not_undone_and_a_decline_after_success_changes_nothing(
    client, pending
):
    signed(client, gateway.sandbox_event(pending, "success"))
    signed(client, gateway.sandbox_event(pending, "decline"))

    pending.refresh_from_db()
    assert pending.status == "succeeded"
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_a_payment_the_bank_never_answers_times_out_after_30_minutes(pending):
    created = pending.created_at

    assert gateway.expire_online_payments(created + dt.timedelta(minutes=29)) == 0
    assert gateway.expire_online_payments(created + dt.timedelta(minutes=31)) == 1

    pending.refresh_from_db()
    assert pending.status == "timed_out"
    assert "30 minutes" in pending.failure_reason


@pytest.mark.django_db
def test_a_late_success_after_our_timeout_still_records_the_money(client, pending):
    gateway.expire_online_payments(pending.created_at + dt.timedelta(minutes=31))

    signed(client, gateway.sandbox_event(pending, "success"))

    pending.refresh_from_db()
    assert pending.status == "succeeded"
    assert Payment.objects.get().amount == D("236.00")


@pytest.mark.django_db
def test_the_sandbox_page_refuses_unknown_cards_and_unknown_payments(client, pending):
    url = f"/sandbox-pay/{pending.provider_ref}/"

    assert client.post(url, {"card": "1234"}).status_code == 400
    assert client.get("/sandbox-pay/sbx_nobody/").status_code == 404
    assert not GatewayEvent.objects.exists()


def test_the_beat_schedule_has_the_timeout_sweep_and_daily_collection():
    from voltdesk.billing.beat import BEAT_SCHEDULE

    tasks = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert tasks >= {
        "voltdesk.billing.tasks.expire_online_payments",
        "voltdesk.billing.tasks.collect_debts",
    }
