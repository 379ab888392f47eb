"""Celery beat entry of work-order analytics, and its task: keep the store fresh.

The lead merges ``BEAT_SCHEDULE`` into the app's schedule (``voltdesk/celery.py``).
"""

from celery import shared_task

BEAT_SCHEDULE = {
    "analytics-refresh-store": {
        "task": "voltdesk.analytics.beat.refresh_store",
        "schedule": 600.0,  # every 10 minutes: dashboards say how old their figures are
        "options": {"expires": 540},  # a late run is replaced by the next one
    },
}


@shared_task(acks_late=True, ignore_result=True)
def refresh_store() -> dict:
    """Beat entry: apply what changed since the last refresh (a full rebuild once a day)."""
    from . import store

    result = store.refresh()
    return {"mode": result.mode, "orders": result.orders, "changed": result.changed}
