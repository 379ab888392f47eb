"""The outbox's command line and admin: sweep, simulator, and the staff view."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from tests.notifications.conftest import free_port
from voltdesk.notifications.channels.signing import sign
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import queue_message

VOLTDESK = Path(sys.executable).with_name("voltdesk")


def test_deliver_outbox_sweeps_lost_messages(utility, settings, capsys):
    settings.SMS_GATEWAY_URL = ""
    message = queue_message(
        channel="sms",
        template="welcome",
        payload={"name": "x"},
        dedupe_key="k",
        address="+8613800138000",
    )
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    call_command("deliver_outbox", grace_seconds=0)

    assert "1 message(s) enqueued" in capsys.readouterr().out
    assert Message.objects.get().status == "sent"


def test_sms_simulator_command_serves_a_signed_gateway():
    port = free_port()
    process = subprocess.Popen(
        [str(VOLTDESK), "sms_simulator", "--port", str(port), "--secret", "s3cret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert b"SMS gateway simulator on" in process.stdout.readline()
        body = json.dumps({"to": "+8613800138000", "text": "你好"}).encode()

        def send(signature):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/messages",
                data=body,
                headers={"X-Signature": signature, "Idempotency-Key": "abc"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, None

        assert send("sha256=bad")[0] == 403
        status, first = send(sign("s3cret", body))
        assert status == 202
        status, again = send(sign("s3cret", body))
        assert (status, again["id"], again["duplicate"]) == (200, first["id"], True)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_admin_lists_messages_and_requeues_failures(client, utility, settings):
    settings.SMS_GATEWAY_URL = ""
    admin = User.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    message = queue_message(
        channel="sms",
        template="welcome",
        payload={"name": "x"},
        dedupe_key="k",
        address="+8613800138000",
    )
    Message.objects.filter(pk=message.pk).update(status="failed", attempts=8)

    listing = client.get("/admin/notifications/message/")
    response = client.post(
        "/admin/notifications/message/",
        {"action": "requeue", "_selected_action": [message.pk]},
    )

    assert listing.status_code == 200
    assert "+8613800138000" in listing.content.decode()
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)
