"""Celery tasks of prepaid packages: thin wrappers around the services; ids in, idempotent."""

from celery import shared_task

from . import bank, services, settlement


@shared_task(acks_late=True, ignore_result=True)
def send_purchase_webhook(package_id: int, outcome: str) -> None:
    """The sandbox gateway answering a package's payment with a signed webhook."""
    services.deliver_purchase_webhook(package_id, outcome)


@shared_task(acks_late=True, ignore_result=True)
def request_auto_debit(debit_id: int) -> None:
    bank.request_auto_debit(debit_id)


@shared_task(acks_late=True, ignore_result=True)
def answer_auto_debit(bank_ref: str, outcome: str) -> None:
    """The sandbox bank's answer to a debit (the same answer twice changes nothing)."""
    ok = outcome == "success"
    bank.receive_debit_answer(bank_ref, ok, "" if ok else "insufficient_funds")


@shared_task(acks_late=True, ignore_result=True)
def settle_last_month() -> dict:
    """Beat entry (monthly, after the bills are issued): credit and settle last month."""
    from voltdesk.billing.payments import today

    return settlement.settle_month(services.add_months(today(), -1))
