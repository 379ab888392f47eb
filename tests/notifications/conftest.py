"""Real servers on loopback for the outbox tests: an SMTP server and the SMS gateway simulator."""

import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import translation

from voltdesk.notifications.channels.simulator import SmsGatewaySimulator

SECRET = "test-gateway-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingHandler:
    """Keeps every mail the SMTP server accepts, parsed, with its envelope recipients."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), mail))
        return "250 OK"

    def message_ids(self):
        with self.lock:
            return [mail["Message-ID"] for _, mail in self.messages]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def receipts():
    """Receipts the simulator would post to the webhook, kept as (body, signature)."""
    return []


@pytest.fixture
def sms_gateway(settings, receipts):
    """The SMS gateway simulator in a thread; the SMS driver is pointed at it."""
    simulator = SmsGatewaySimulator(
        secret=SECRET, on_receipt=lambda body, sig: receipts.append((body, sig)), seed=1
    )
    simulator.behaviour.receipt_delay = 0
    simulator.start()
    settings.SMS_GATEWAY_URL = simulator.url
    settings.SMS_GATEWAY_SECRET = SECRET
    settings.SMS_GATEWAY_TIMEOUT = 2
    try:
        yield simulator
    finally:
        simulator.stop()


def tr(language: str, msgid: str, **params) -> str:
    """The catalogue's wording of ``msgid`` in ``language``, so tests follow translators' edits."""
    with translation.override(language):
        return translation.gettext(msgid) % params
