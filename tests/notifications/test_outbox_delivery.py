"""Delivery: once per dedupe key, retried with backoff, given up on, and swept up after a crash."""

import datetime
import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.notifications.conftest import SECRET, free_port, tr
from voltdesk.notifications import services
from voltdesk.notifications.channels.email import message_id_for
from voltdesk.notifications.channels.signing import SIGNATURE_HEADER, sign
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import deliver, dispatch_due, queue_message

PHONE = "+972528765432"


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def make_due(message):
    """Let the clock pass the message's backoff, as dispatch_due would after waiting."""
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def queue_sms(key="sms:1", phone=PHONE, **kwargs):
    return queue_message(
        channel="sms",
        template="welcome",
        payload={"name": "Dana"},
        dedupe_key=key,
        address=phone,
        language="he",
        **kwargs,
    )


def test_queued_message_is_delivered_after_commit(
    utility, sms_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue_sms()
        assert Message.objects.get().status == "queued"  # nothing leaves before commit

    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.attempts == 1
    assert message.driver == "sms-gateway"
    [sms] = sms_gateway.sent
    assert (sms.to, sms.id, sms.reference) == (PHONE, message.provider_message_id, str(message.pk))
    assert sms.text == tr(
        "he",
        "Welcome to %(utility_name)s, %(name)s. Questions? Call %(line)s.",
        utility_name=utility.name,
        name="Dana",
        line=utility.service_line,
    )
    assert sms.idempotency_key == message.idempotency_key


def test_same_dedupe_key_queues_one_row_and_sends_once(
    utility, sms_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_sms(key="outage:F12:2026-07-01")
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = queue_sms(key="outage:F12:2026-07-01")

    assert second.pk == first.pk
    assert second_callbacks == []
    assert Message.objects.count() == 1
    assert len(sms_gateway.sent) == 1
    assert deliver(first.pk).outcome == "skipped"  # a duplicate task sends nothing
    assert sms_gateway.requests == 1


def test_gateway_failure_is_retried_with_exponential_backoff_then_succeeds(utility, sms_gateway):
    sms_gateway.behaviour.fail_next = 2
    message = queue_sms()

    started = timezone.now()
    first = deliver(message.pk)
    message.refresh_from_db()
    assert first.outcome == "retry"
    assert (message.status, message.attempts) == ("queued", 1)
    assert "HTTP 500" in message.last_error
    assert timedelta(seconds=29) < message.next_attempt_at - started < timedelta(seconds=32)
    assert deliver(message.pk).outcome == "skipped"  # not due yet

    make_due(message)
    started = timezone.now()
    assert deliver(message.pk).outcome == "retry"
    message.refresh_from_db()
    assert message.attempts == 2
    assert timedelta(seconds=59) < message.next_attempt_at - started < timedelta(seconds=62)

    make_due(message)
    assert deliver(message.pk).outcome == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert len(sms_gateway.sent) == 1


def test_gives_up_after_the_maximum_number_of_attempts(utility, sms_gateway, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    sms_gateway.behaviour.fail_numbers = {PHONE}
    message = queue_sms()

    outcomes = [deliver(message.pk).outcome]
    for _ in range(2):
        make_due(message)
        outcomes.append(deliver(message.pk).outcome)

    message.refresh_from_db()
    assert outcomes == ["retry", "retry", "failed"]
    assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 3, None)
    assert deliver(message.pk).outcome == "skipped"
    assert sms_gateway.sent == []


def test_a_permanent_refusal_fails_at_once(utility, sms_gateway):
    sms_gateway.behaviour.reject_numbers = {PHONE}
    message = queue_sms()

    assert deliver(message.pk).outcome == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert "HTTP 400" in message.last_error


def test_a_gateway_that_hangs_is_a_temporary_failure(utility, sms_gateway, settings):
    settings.SMS_GATEWAY_TIMEOUT = 0.3
    sms_gateway.behaviour.hang_numbers = {PHONE}
    sms_gateway.behaviour.hang_seconds = 1.0
    message = queue_sms()

    assert deliver(message.pk).outcome == "retry"
    message.refresh_from_db()
    assert "timed out" in message.last_error


def test_resend_after_a_lost_answer_is_dropped_by_the_gateway(utility, sms_gateway):
    """The gateway took the SMS but its answer was lost: our retry must not send it again."""
    sms_gateway.behaviour.lose_answer_next = 1
    message = queue_sms()

    assert deliver(message.pk).outcome == "retry"
    make_due(message)
    assert deliver(message.pk).outcome == "sent"

    message.refresh_from_db()
    assert len(sms_gateway.sent) == 1
    assert sms_gateway.duplicates == 1
    assert message.provider_message_id == sms_gateway.sent[0].id


def test_without_a_gateway_url_the_demo_simulator_driver_records_the_sms(utility, settings):
    settings.SMS_GATEWAY_URL = ""
    message = queue_sms()

    assert deliver(message.pk).outcome == "sent"
    message.refresh_from_db()
    assert (message.status, message.driver) == ("sent", "simulator")
    assert message.provider_message_id.startswith("sim-")


def test_a_worker_lost_mid_send_is_swept_back_and_delivered_once(utility, sms_gateway, settings):
    """A worker claimed the row, the gateway took the SMS, then the worker died."""
    settings.NOTIFICATIONS_SENDING_LEASE_SECONDS = 60
    message = queue_sms()
    sms_gateway.handle_send(  # the dead worker's request
        json.dumps({"to": PHONE, "text": "x", "reference": str(message.pk)}).encode(),
        {
            SIGNATURE_HEADER: sign(
                SECRET,
                b'{"to": "%s", "text": "x", "reference": "%d"}' % (PHONE.encode(), message.pk),
            ),
            "Idempotency-Key": message.idempotency_key,
        },
    )
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=1, sending_since=timezone.now() - timedelta(seconds=30)
    )

    assert dispatch_due() == 0  # the lease has not run out: the worker may still be busy
    Message.objects.filter(pk=message.pk).update(
        sending_since=timezone.now() - timedelta(seconds=61)
    )
    assert dispatch_due() == 1  # eager here: enqueued means delivered

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(sms_gateway.sent) == 1
    assert sms_gateway.duplicates == 1


def test_dispatch_due_reenqueues_queued_messages_whose_task_was_lost(utility, settings):
    settings.SMS_GATEWAY_URL = ""
    lost = queue_sms(key="lost")
    waiting = queue_sms(key="waiting")
    now = timezone.now()
    Message.objects.filter(pk=lost.pk).update(next_attempt_at=now - timedelta(minutes=5))
    Message.objects.filter(pk=waiting.pk).update(next_attempt_at=now + timedelta(minutes=5))

    assert dispatch_due(grace=timedelta(seconds=60)) == 1

    assert Message.objects.get(pk=lost.pk).status == "sent"
    assert Message.objects.get(pk=waiting.pk).status == "queued"


def test_a_message_that_keeps_killing_its_worker_gives_up(utility, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    message = queue_sms()
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=2, sending_since=timezone.now() - timedelta(hours=1)
    )

    assert dispatch_due() == 0
    message.refresh_from_db()
    assert message.status == "failed"
    assert "lease" in message.last_error


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_message(utility, sms_gateway, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(services, "_enqueue", lambda *args, **kwargs: None)  # workers below send
        messages = [queue_sms(key=f"race:{i}") for i in range(8)]
    outcomes = []

    def worker():
        try:
            for message in messages:
                outcomes.append(deliver(message.pk).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes).count("sent") == 8
    assert outcomes.count("skipped") == 16
    assert sms_gateway.requests == 8
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


def test_requeue_gives_a_failed_message_fresh_attempts(utility, settings, make_user):
    settings.SMS_GATEWAY_URL = ""
    message = queue_sms()
    Message.objects.filter(pk=message.pk).update(status="failed", attempts=8)

    assert services.requeue_messages([message.pk], actor=make_user("administrator")) == 1

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)
    assert deliver(message.pk).outcome == "sent"


# E-mail over a real SMTP server


def test_email_reaches_a_real_smtp_server_in_each_recipients_language(utility, smtp_server):
    recipients = {
        "he": ("cohen@example.co.il", "כהן", "מרץ 2026", "15 באפריל 2026"),
        "zh-hans": ("wang@example.cn", "王小明", "2026年3月", "2026年4月15日"),
        "en": ("smith@example.com", "Smith", "March 2026", "April 15, 2026"),
    }
    messages = [
        queue_message(
            channel="email",
            template="bill_ready",
            payload={
                "name": name,
                "period": datetime.date(2026, 3, 1),
                "amount": Decimal("812.40"),
                "currency": "ILS",
                "due_date": datetime.date(2026, 4, 15),
            },
            dedupe_key=f"bill:{language}",
            address=address,
            language=language,
        )
        for language, (address, name, _, _) in recipients.items()
    ]

    for message in messages:
        assert deliver(message.pk).outcome == "sent"

    received = {rcpt[0]: mail for rcpt, mail in smtp_server.messages}
    assert set(received) == {address for address, *_ in recipients.values()}
    for language, (address, name, month, due) in recipients.items():
        mail = received[address]
        # Python's mail generator folds an encoded subject onto a continuation line,
        # which reads back with a leading space; mail readers drop it as well.
        assert mail["Subject"].strip() == tr(
            language, "Your electricity bill for %(month)s is ready", month=month
        )
        assert mail["Content-Language"] == language
        body = mail.get_content()
        assert tr(language, "Hello %(name)s,", name=name) in body
        assert due in body  # dates in the recipient's language: Hebrew and Chinese intact
    for message in messages:
        message.refresh_from_db()
        assert message.status == "sent"
        assert message.provider_message_id == received[message.address]["Message-ID"]


def test_an_email_resend_carries_the_same_message_id(utility, smtp_server):
    """Receiving systems drop a second copy with the same Message-ID; it must not change."""
    message = queue_message(
        channel="email",
        template="welcome",
        payload={"name": "x"},
        dedupe_key="welcome:x",
        address="x@example.com",
    )
    deliver(message.pk)
    Message.objects.filter(pk=message.pk).update(status="queued")  # as if the commit was lost
    deliver(message.pk)

    ids = smtp_server.message_ids()
    assert len(ids) == 2
    assert ids[0] == ids[1] == message_id_for_message(message)


def message_id_for_message(message):
    from voltdesk.notifications.channels.base import Outgoing

    return message_id_for(
        Outgoing(
            reference="",
            idempotency_key=message.idempotency_key,
            address="",
            language="",
            body="",
        )
    )


def test_smtp_server_down_is_retried(utility, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    message = queue_message(
        channel="email",
        template="welcome",
        payload={"name": "x"},
        dedupe_key="welcome:x",
        address="x@example.com",
    )

    assert deliver(message.pk).outcome == "retry"
    message.refresh_from_db()
    assert message.status == "queued"
    assert "SMTP unavailable" in message.last_error


def test_a_batch_is_queued_once_per_key_and_delivered_after_commit(
    utility, sms_gateway, django_capture_on_commit_callbacks
):
    """Warnings to a whole area: a key already queued and a key repeated in the batch go once."""

    def prepared(key, phone):
        return services.prepare_message(
            channel="sms",
            template="welcome",
            payload={"name": "Dana"},
            dedupe_key=key,
            address=phone,
            language="en",
        )

    with django_capture_on_commit_callbacks(execute=True):
        queue_sms(key="warn:1")
    batch = [
        prepared("warn:1", PHONE),  # queued before: skipped
        prepared("warn:2", "+972528765433"),
        prepared("warn:2", "+972528765433"),  # twice in the batch: once
        prepared("warn:3", "+972528765434"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        queued = services.queue_messages(batch)
        assert Message.objects.filter(status="queued").count() == 2  # nothing sent before commit

    assert queued == 2
    assert sorted(Message.objects.values_list("dedupe_key", flat=True)) == [
        "warn:1",
        "warn:2",
        "warn:3",
    ]
    assert sorted(sms.to for sms in sms_gateway.sent) == [
        PHONE,
        "+972528765433",
        "+972528765434",
    ]
    assert services.queue_messages([prepared("warn:3", "+972528765434")]) == 0


def test_a_message_that_cannot_be_sent_is_refused_before_it_is_queued(utility):
    with pytest.raises(services.NotificationError):
        services.prepare_message(
            channel="sms", template="welcome", payload={}, dedupe_key="k", address="not a phone"
        )
    assert not Message.objects.exists()
