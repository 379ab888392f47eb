"""Celery tasks of appointments: thin wrappers around the services."""

from celery import shared_task

from . import reminders


@shared_task(acks_late=True, ignore_result=True)
def send_reminders() -> dict:
    """Beat entry (every hour): remind tomorrow's visits, with their notice of documents."""
    return reminders.send_reminders()
