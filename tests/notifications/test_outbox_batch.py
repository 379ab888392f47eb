"""Batch delivery: one claim, one gateway request, one UPDATE; never a message twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.notifications.conftest import tr
from voltdesk.notifications import services
from voltdesk.notifications.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

PHONES = [f"+97252876540{i}" for i in range(5)]


def prepared(i: int, phone: str, name: str = "Dana", language: str = "he"):
    return services.prepare_message(
        channel="sms",
        template="welcome",
        payload={"name": name},
        dedupe_key=f"batch:{i}",
        address=phone,
        language=language,
    )


def queue_five(monkeypatch) -> list[int]:
    with monkeypatch.context() as m:
        m.setattr(services, "enqueue_deliveries", lambda *args, **kwargs: None)
        services.queue_messages([prepared(i, phone) for i, phone in enumerate(PHONES)])
    return list(Message.objects.order_by("pk").values_list("pk", flat=True))


def test_a_batch_goes_to_the_gateway_in_one_request_and_each_message_once(
    utility, sms_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_messages([prepared(i, p) for i, p in enumerate(PHONES)]) == 5

    assert sms_gateway.requests == 1  # five messages, one batch request
    assert sorted(sms.to for sms in sms_gateway.sent) == PHONES
    rows = list(Message.objects.values_list("status", "provider_message_id", "attempts"))
    assert {status for status, _id, _a in rows} == {"sent"}
    assert len({provider_id for _s, provider_id, _a in rows}) == 5  # each its own gateway id
    assert {attempts for _s, _id, attempts in rows} == {1}
    text = tr(
        "he",
        "Welcome to %(utility_name)s, %(name)s. Questions? Call %(line)s.",
        utility_name=utility.name,
        name="Dana",
        line=utility.service_line,
    )
    assert {sms.text for sms in sms_gateway.sent} == {text}


def test_a_batch_whose_answer_was_lost_is_sent_again_and_dropped_by_the_gateway(
    utility, sms_gateway, monkeypatch
):
    ids = queue_five(monkeypatch)
    sms_gateway.behaviour.lose_answer_next = 1  # took all five, then "crashed"

    first = services.deliver_batch(ids)
    assert (first.sent, len(first.retry)) == (0, 5)
    assert Message.objects.filter(status="queued", next_attempt_at__gt=timezone.now()).count() == 5
    Message.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))  # backoff over

    second = services.deliver_batch(ids)
    assert second.sent == 5
    assert len(sms_gateway.sent) == 5  # five SMS reached handsets, not ten
    assert sms_gateway.duplicates == 5
    assert Message.objects.filter(status="sent", attempts=2).count() == 5


def test_one_refused_and_one_failing_number_do_not_hold_up_the_rest(
    utility, sms_gateway, monkeypatch
):
    ids = queue_five(monkeypatch)
    sms_gateway.behaviour.reject_numbers = {PHONES[0]}  # permanent
    sms_gateway.behaviour.fail_numbers = {PHONES[1]}  # temporary

    result = services.deliver_batch(ids)

    assert (result.sent, result.failed, len(result.retry)) == (3, 1, 1)
    status = dict(Message.objects.values_list("address", "status"))
    assert status == {
        PHONES[0]: "failed",
        PHONES[1]: "queued",
        PHONES[2]: "sent",
        PHONES[3]: "sent",
        PHONES[4]: "sent",
    }
    retry = Message.objects.get(address=PHONES[1])
    assert retry.next_attempt_at > timezone.now()  # backoff, not at once
    assert "gateway" in Message.objects.get(address=PHONES[0]).last_error


def test_ids_already_sent_or_not_due_are_skipped(utility, sms_gateway, monkeypatch):
    ids = queue_five(monkeypatch)
    services.deliver_batch(ids[:2])
    Message.objects.filter(pk=ids[4]).update(next_attempt_at=timezone.now() + timedelta(hours=1))

    result = services.deliver_batch(ids)  # a duplicate task, a little later

    assert (result.sent, result.skipped) == (2, 3)
    assert len(sms_gateway.sent) == 4
    assert Message.objects.get(pk=ids[4]).status == "queued"


def test_stencils_write_what_a_full_render_writes(utility):
    stencils = services.Stencils("sms", "welcome")
    names = ["כהן", "王小明", "Smith", "Ann & Bob", "Lee"]
    for language in ("en", "he", "zh-hans"):
        for name in names:
            got = stencils.render(
                language=language,
                shape=(),
                values={"name": name},
                build=lambda values: {"name": values["name"]},
            )
            full = services.render_message(
                channel="sms", template="welcome", language=language, context={"name": name}
            )
            assert got == full
    # A stencil and its check per language, and "Ann & Bob" (escapable) in full: 3 * 2 + 3.
    assert stencils.full_renders == 9
