"""Celery tasks of e-invoices and e-bills: thin wrappers around ``billing.einvoices``; ids in.

``issue_einvoices`` numbers every paid bill's e-invoice in one statement, then
fans the sealing out in chunks so any number of workers share it. Every task
is safe to run twice: a sealed e-invoice is left alone, an e-bill message is
queued once per bill.
"""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import einvoices

SEAL_CHUNK = 200  # about 20 s of work for one worker: short enough to retry cheaply


@shared_task(acks_late=True, ignore_result=True)
def issue_einvoices() -> dict:
    """Beat entry (hourly): e-invoices for bills paid since the last sweep, then seal them."""
    numbered = einvoices.issue_einvoices()
    # Rows a crashed worker left numbered are sealed too.
    pending = sorted(set(numbered) | set(einvoices.unsealed_ids()))
    for i in range(0, len(pending), SEAL_CHUNK):
        seal_einvoices.delay(pending[i : i + SEAL_CHUNK])
    return {"numbered": len(numbered), "to_seal": len(pending)}


@shared_task(acks_late=True, ignore_result=True)
def seal_einvoices(ids: list[int]) -> int:
    """Render and seal these numbered e-invoices (one chunk of ``issue_einvoices``)."""
    return einvoices.seal_einvoices(ids)


@shared_task(acks_late=True, ignore_result=True)
def send_ebills(days: int = 3) -> int:
    """Beat entry (hourly) and after issuing: e-bill messages for bills issued lately."""
    return einvoices.send_ebills(since=timezone.now() - timedelta(days=days))


BEAT_SCHEDULE = {
    "billing-issue-einvoices": {
        "task": "voltdesk.billing.einvoice_tasks.issue_einvoices",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "billing-send-ebills": {
        "task": "voltdesk.billing.einvoice_tasks.send_ebills",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}
