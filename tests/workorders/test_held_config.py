"""The desk configuration each process holds: its own edits at once, others' within the TTL."""

from voltdesk.workorders import config
from voltdesk.workorders.models import Queue, SlaPolicy
from voltdesk.workorders.services import open_work_order


def test_a_queue_switched_off_here_takes_no_more_orders(utility):
    assert open_work_order(channel="hotline", order_type="fault").queue.code == "faults"

    faults = Queue.objects.get(code="faults")
    faults.active = False
    faults.save()

    assert open_work_order(channel="hotline", order_type="fault").queue.code == "general"


def test_a_commitment_edited_elsewhere_applies_once_the_held_copy_expires(utility, monkeypatch):
    def complaint_days():
        result = open_work_order(channel="hotline", order_type="complaint")
        return sorted(d.policy.working_days for d in result.deadlines)

    assert complaint_days() == [2, 14]
    # Another process edits the policy (no signal reaches this one).
    SlaPolicy.objects.filter(order_type="complaint", clock="reply").update(working_days=10)
    assert complaint_days() == [2, 14]  # still held, for at most config.TTL

    later = config.time.monotonic() + config.TTL + 1
    monkeypatch.setattr(config.time, "monotonic", lambda: later)

    assert complaint_days() == [2, 10]
