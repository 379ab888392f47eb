"""Celery tasks: thin wrappers that take ids and call the outbox services."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver_message(self, message_id: int) -> str:
    """Deliver one outbox message; on a temporary failure, come back when it is due.

    The service decides when and whether to try again (it counts attempts in the
    row); a duplicate or early task is skipped by the service's claim.
    """
    result = services.deliver(message_id)
    if result.outcome == "retry" and not self.request.is_eager:
        # Eager runs (demo, tests) cannot wait; dispatch_due picks the message up instead.
        countdown = max(0.0, (result.retry_at - timezone.now()).total_seconds())
        raise self.retry(countdown=countdown)
    return result.outcome


@shared_task(ignore_result=True)
def dispatch_due_messages() -> int:
    """Beat entry: re-enqueue messages whose task was lost or whose worker died."""
    return services.dispatch_due()
