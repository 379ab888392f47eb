"""Celery tasks of excess-demand events: thin wrappers around ``fanout``.

Every task is safe to run twice (the outbox's dedupe keys), so they are
acknowledged late and redelivered when a worker dies.
"""

from celery import shared_task

from . import fanout


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def warn_event(event_id: int) -> int:
    """Cut the affected customers into id ranges and queue one task per range."""
    from .models import DemandEvent

    plan = fanout.plan_ranges(DemandEvent.objects.get(pk=event_id))
    for lo, hi in plan.ranges:
        warn_customer_range.delay(event_id, lo, hi)
    fanout.mark_queued(event_id)
    return len(plan.ranges)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def warn_customer_range(event_id: int, lo: int, hi: int) -> int:
    return fanout.warn_range(event_id, lo, hi)


@shared_task(acks_late=True, ignore_result=True)
def sweep_fanouts() -> int:
    """Beat entry (every minute): re-run the ranges of open events a dead worker left.

    A range task reserved by a worker that died waits in the broker until its
    visibility timeout; this brings its customers' warnings out now instead.
    """
    from .services import open_events

    queued = 0
    for event in open_events().filter(warnings_queued_at__isnull=False):
        for lo, hi in fanout.unfinished_ranges(event).ranges:
            warn_customer_range.delay(event.pk, lo, hi)
            queued += 1
    return queued


@shared_task(ignore_result=True)
def propose_demand_events() -> int:
    """Beat entry (daily): propose events for the days whose forecast crosses a margin."""
    from django.utils import timezone

    from voltdesk.core.services import get_utility, utility_zone

    from .proposals import propose_events

    today = timezone.now().astimezone(utility_zone()).date()
    return len(propose_events(get_utility(), today).created)
