"""Celery tasks of work-order analytics: thin wrappers around the services."""

from datetime import date

from celery import shared_task

from . import classifier


@shared_task(acks_late=True, ignore_result=True)
def train_classifier_task(run_id: int) -> dict | None:
    """Train the classifier run ``run_id`` that the desk queued ("train now").

    Safe to retry or to deliver twice: a run that is no longer queued is left alone.
    """
    model = classifier.run_training(run_id)
    if model is None:
        return None
    return {"run": model.pk, "state": model.report.get("state")}


@shared_task(acks_late=True, ignore_result=True)
def prepare_staffing_forecasts(week: str) -> dict | None:
    """Fit the forecasts of the staffing plan of ``week`` (an ISO day) into the cache.

    The staffing page queues it and shows its progress. Safe to retry or to
    deliver twice: forecasts already in the cache are not fitted again; a week
    that can no longer be planned is left alone.
    """
    from . import staffing

    try:
        span = staffing.plan_span(date.fromisoformat(week))
    except staffing.StaffingError:
        return None
    return {"week": span.start.isoformat(), "state": staffing.prepare_forecasts(span).state}
