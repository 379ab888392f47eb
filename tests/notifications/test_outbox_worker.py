"""A real Redis broker and real Celery worker processes deliver a batch exactly once."""

import os
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from tests.notifications.conftest import SECRET, RecordingHandler, free_port, tr
from voltdesk.notifications import services
from voltdesk.notifications.channels.simulator import SmsGatewaySimulator
from voltdesk.notifications.models import Message
from voltdesk.notifications.testing import (
    ROOT,
    Workers,
    celery_sends_to,
    database_url,
    redis_server,
)
from voltdesk.notifications.testing import wait_until as _wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "he", "zh-hans"]
NAMES = {"en": "Smith", "he": "כהן", "zh-hans": "王小明"}


def wait_until(condition, timeout: float, what: str, on_timeout=lambda: ""):
    """``testing.wait_until`` that fails the test (with the workers' logs) instead of raising."""
    try:
        _wait_until(condition, timeout, what, on_timeout)
    except AssertionError as exc:
        pytest.fail(str(exc))


class FlakySmtpHandler(RecordingHandler):
    """Answers "451 try again later" to the first few mails, like a busy relay."""

    def __init__(self, refuse_first: int):
        super().__init__()
        self.refuse = refuse_first

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.2 try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def world(live_server):
    """Redis, an SMTP server, the SMS gateway simulator and a worker environment."""
    directory = Path(tempfile.mkdtemp(prefix="voltdesk-outbox-"))
    smtp = FlakySmtpHandler(refuse_first=3)
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    simulator = SmsGatewaySimulator(
        secret=SECRET, callback_url=live_server.url + "/notifications/sms/receipt", seed=7
    )
    workers = None
    try:
        with redis_server(directory) as broker_url:
            controller.start()
            simulator.start()
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "outbox_worker_settings",
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT / "src")]),
                "DATABASE_URL": database_url(),
                "CELERY_BROKER_URL": broker_url,
                "VOLTDESK_EMAIL_HOST": "127.0.0.1",
                "VOLTDESK_EMAIL_PORT": str(controller.port),
                "VOLTDESK_SMS_GATEWAY_URL": simulator.url,
                "VOLTDESK_SMS_GATEWAY_SECRET": SECRET,
            }
            workers = Workers(env, directory)
            with celery_sends_to(broker_url), override_secret(SECRET):
                yield workers, smtp, simulator
    finally:
        if workers is not None:
            workers.stop_all()
        simulator.stop()
        controller.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def override_secret(secret):
    # The webhook runs in this process (live_server) and checks the gateway's signature.
    from django.test import override_settings

    with override_settings(SMS_GATEWAY_SECRET=secret):
        yield


def queue_batch(utility, count: int, prefix: str):
    """``count`` e-mails and ``count`` SMS in three languages, one transaction each like callers."""
    for i in range(count):
        language = LANGUAGES[i % 3]
        payload = {"name": f"{NAMES[language]} {i}"}
        with transaction.atomic():
            services.queue_message(
                channel="email",
                template="welcome",
                payload=payload,
                dedupe_key=f"{prefix}:mail:{i}",
                address=f"customer{i}@example.com",
                language=language,
            )
        with transaction.atomic():
            services.queue_message(
                channel="sms",
                template="welcome",
                payload=payload,
                dedupe_key=f"{prefix}:sms:{i}",
                address=f"+97252{i:07d}",
                language=language,
            )


def done_count() -> int:
    return Message.objects.filter(status__in=["sent", "delivered"]).count()


def test_a_batch_is_delivered_exactly_once_by_real_workers(utility, world):
    workers, smtp, simulator = world
    simulator.behaviour.fail_rate = 0.15  # retried by the workers with backoff
    simulator.behaviour.lose_answer_next = 3  # taken, answer lost: the resend must be dropped
    workers.start("w1")
    workers.start("w2")

    queue_batch(utility, 50, "batch")

    wait_until(
        lambda: (
            Message.objects.filter(channel="email", status="sent").count() == 50
            and Message.objects.filter(channel="sms", status="delivered").count() == 50
        ),
        timeout=120,
        what="100 messages sent and the SMS delivery receipts",
        on_timeout=lambda: (
            f"{list(Message.objects.values_list('status', 'last_error'))[:20]}\n" + workers.logs()
        ),
    )
    assert len(smtp.messages) == 50  # each mail reached the SMTP server once
    assert len(set(smtp.message_ids())) == 50
    assert sorted(rcpt[0] for rcpt, _ in smtp.messages) == sorted(
        f"customer{i}@example.com" for i in range(50)
    )
    assert len(simulator.sent) == 50  # each SMS reached a handset once
    # The lost answers were settled by a retry the gateway dropped as a duplicate, or by
    # the delivery receipt arriving first (then no retry was needed): never a second SMS.
    assert {sms.to for sms in simulator.sent} == {f"+97252{i:07d}" for i in range(50)}
    hebrew = next(mail for rcpt, mail in smtp.messages if rcpt == ["customer1@example.com"])
    assert tr("he", "Hello %(name)s,", name="כהן 1") in hebrew.get_content()
    chinese = next(sms for sms in simulator.sent if sms.to == "+972520000002")
    assert chinese.text == tr(
        "zh-hans",
        "Welcome to %(utility_name)s, %(name)s. Questions? Call %(line)s.",
        utility_name=utility.name,
        name="王小明 2",
        line=utility.service_line,
    )
    assert Message.objects.filter(attempts__gt=1).exists()  # some really were retried


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(utility, world):
    workers, smtp, simulator = world
    smtp.refuse = 0
    simulator.behaviour.latency = 0.05  # slow enough to kill the worker mid-batch
    first = workers.start("w1")

    queue_batch(utility, 30, "kill")
    wait_until(lambda: len(simulator.sent) >= 8, timeout=60, what="the first sends")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert done_count() < 60, "the worker finished before it could be killed"

    workers.start("w2")
    # The dead worker's reserved task waits in Redis until its visibility timeout (an
    # hour) and its claimed row sits in "sending": the sweep brings both back now.
    last = -1
    while done_count() != last:  # let w2 drain the queue first
        last = done_count()
        time.sleep(2)
    services.dispatch_due(lease=_seconds(1), grace=_seconds(0))

    wait_until(
        lambda: done_count() == 60,
        timeout=90,
        what="every message after the crash",
        on_timeout=workers.logs,
    )
    assert len(simulator.sent) == 30
    assert len({sms.idempotency_key for sms in simulator.sent}) == 30
    assert len(set(smtp.message_ids())) == 30
    # A mail the dead worker handed over but never recorded is sent again with the same
    # Message-ID, which receiving systems drop; at most the one in flight.
    assert len(smtp.messages) <= 31


def _seconds(value):
    from datetime import timedelta

    return timedelta(seconds=value)
