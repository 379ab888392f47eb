"""Celery tasks of billing: thin wrappers around the services; ids in, idempotent."""

from celery import shared_task

from . import debts, gateway, payments


@shared_task(acks_late=True, ignore_result=True)
def send_sandbox_webhook(online_payment_id: int, outcome: str) -> None:
    """The sandbox bank answering a payment: a signed webhook (same choice, same event id)."""
    gateway.deliver_sandbox_webhook(online_payment_id, outcome)


@shared_task(acks_late=True, ignore_result=True)
def expire_online_payments() -> int:
    """Beat entry (every 5 minutes): online payments the bank never answered time out."""
    return gateway.expire_online_payments()


@shared_task(acks_late=True, ignore_result=True)
def collect_debts() -> dict:
    """Beat entry (daily): break arrangements not kept, charge late fees, apply credit."""
    today = payments.today()
    broken = debts.check_arrangements(today)
    figures = debts.charge_late_fees(today)
    applied = payments.apply_all_credit()
    return {
        "arrangements_broken": broken,
        "late_fees": figures["late_fees"],
        "amount": str(figures["amount"]),
        "customers_credit_applied": applied,
    }


# Celery discovers ``tasks`` modules only.
from .einvoice_tasks import issue_einvoices, seal_einvoices, send_ebills  # noqa: E402, F401
