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


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver_messages(self, message_ids: list[int]) -> int:
    """Deliver a batch of outbox messages; the temporary failures come back as one batch.

    Safe to run twice or alongside another worker: the service claims each
    message once and skips the rest.
    """
    result = services.deliver_batch(message_ids)
    if result.retry and not self.request.is_eager:
        countdown = max(0.0, (result.retry_at - timezone.now()).total_seconds())
        services.enqueue_deliveries(list(result.retry), countdown=countdown)
    return result.sent
