"""Celery tasks of the business club: thin wrappers around the services."""

from celery import shared_task

from . import services
from .tasks_service import local_today


@shared_task(acks_late=True, ignore_result=True)
def evaluate_club_monthly() -> dict:
    """Beat entry (1st of each month): evaluate everyone as of today, local time.

    Safe to retry or to run twice: a date already evaluated changes nothing.
    """
    result = services.evaluate_club()
    return {
        "run": result.run.pk,
        "as_of": result.run.as_of.isoformat(),
        "created": result.created,
        "joined": result.joined,
        "left": result.left,
        "stayed": result.stayed,
    }


@shared_task(acks_late=True, ignore_result=True)
def ensure_annual_meetings_monthly() -> int:
    """Beat entry (1st of each month): every member has this year's meeting to schedule.

    On 1 January this opens the new year's meetings; later in the year it
    catches members who lost theirs (a cancelled meeting). Idempotent.
    """
    from .meetings import ensure_annual_meetings

    return ensure_annual_meetings(local_today().year)
