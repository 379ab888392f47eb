"""Celery tasks of the work-order desk: thin wrappers around the services."""

from celery import shared_task

from . import sla


@shared_task(acks_late=True, ignore_result=True)
def watch_sla() -> dict:
    """Beat entry (every 5 minutes): escalate what is about to breach, mark breaches."""
    return sla.watch_sla()
