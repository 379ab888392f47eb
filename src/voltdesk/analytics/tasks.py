"""Celery tasks of work-order analytics: thin wrappers around the services."""

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
