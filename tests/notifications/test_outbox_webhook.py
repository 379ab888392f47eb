"""The SMS gateway's signed delivery receipts mark messages delivered or failed."""

import json
import time

import pytest
from django.urls import reverse

from tests.notifications.conftest import SECRET
from voltdesk.notifications.channels.signing import sign
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import deliver, queue_message

PHONE = "+8613800138000"
URL = "/notifications/sms/receipt"


@pytest.fixture
def sent_sms(utility, sms_gateway, receipts):
    message = queue_message(
        channel="sms", template="welcome", payload={"name": "王"}, dedupe_key="k", address=PHONE
    )
    deliver(message.pk)
    deadline = time.monotonic() + 5
    while not receipts and time.monotonic() < deadline:
        time.sleep(0.01)
    message.refresh_from_db()
    return message


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_SIGNATURE": signature} if signature else {}
    return client.post(URL, body, content_type="application/json", **headers)


def test_the_url_is_where_the_gateway_is_told_to_post():
    assert reverse("notifications:sms-receipt") == URL


def test_gateway_receipt_marks_the_message_delivered(client, sent_sms, receipts):
    assert sent_sms.status == "sent"
    [(body, signature)] = receipts

    response = post(client, body, signature)

    assert response.status_code == 200
    sent_sms.refresh_from_db()
    assert sent_sms.status == "delivered"
    assert sent_sms.delivered_at is not None
    assert post(client, body, signature).status_code == 200  # gateways repeat receipts
    assert Message.objects.get().status == "delivered"


def test_failed_receipt_marks_the_message_failed(client, utility, sms_gateway, receipts):
    sms_gateway.behaviour.undeliverable_numbers = {PHONE}
    message = queue_message(
        channel="sms", template="welcome", payload={"name": "x"}, dedupe_key="k", address=PHONE
    )
    deliver(message.pk)
    time.sleep(0.2)
    [(body, signature)] = receipts

    assert post(client, body, signature).status_code == 200

    message.refresh_from_db()
    assert message.status == "failed"
    assert "handset unreachable" in message.last_error


def test_a_failure_receipt_never_undoes_delivered(client, sent_sms, receipts):
    [(body, signature)] = receipts
    post(client, body, signature)
    late = json.dumps({"id": sent_sms.provider_message_id, "status": "failed"}).encode()

    post(client, late, sign(SECRET, late))

    assert Message.objects.get().status == "delivered"


def test_a_receipt_before_our_sent_is_recorded_still_counts(client, utility, settings):
    """The gateway may confirm faster than the worker records "sent"."""
    settings.SMS_GATEWAY_SECRET = SECRET
    message = queue_message(
        channel="sms", template="welcome", payload={"name": "x"}, dedupe_key="k", address=PHONE
    )
    Message.objects.filter(pk=message.pk).update(status="sending")
    body = json.dumps({"id": "gw-9", "reference": str(message.pk), "status": "delivered"}).encode()

    assert post(client, body, sign(SECRET, body)).status_code == 200

    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == ("delivered", "gw-9")
    assert message.sent_at is not None


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, sign("another-secret", b"x"), "garbage"],
)
def test_a_receipt_with_a_bad_signature_is_refused_and_changes_nothing(
    client, sent_sms, receipts, signature
):
    [(body, _good)] = receipts

    response = post(client, body, signature)

    assert response.status_code == 403
    assert Message.objects.get().status == "sent"


def test_a_tampered_receipt_is_refused(client, sent_sms, receipts):
    [(body, signature)] = receipts
    tampered = body.replace(b"delivered", b"failed")

    assert post(client, tampered, signature).status_code == 403
    assert Message.objects.get().status == "sent"


def test_malformed_and_unknown_receipts(client, utility, settings):
    settings.SMS_GATEWAY_SECRET = SECRET
    for body, expected in [
        (b"not json", 400),
        (b'{"id": "gw-1"}', 400),
        (b'{"id": "gw-1", "status": "lost"}', 404),
        (b'{"id": "gw-404", "status": "delivered"}', 404),
    ]:
        assert post(client, body, sign(SECRET, body)).status_code == expected
    assert client.get(URL).status_code == 405
