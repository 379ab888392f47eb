"""Celery beat entries of prepaid packages; merged into beat_schedule (voltdesk/celery.py)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "prepaid-settle-last-month": {
        "task": "voltdesk.prepaid.tasks.settle_last_month",
        # The 5th of each month (UTC), after the billing run has issued last month's bills.
        "schedule": crontab(day_of_month=5, hour=2, minute=0),
        "options": {"expires": 20 * 3600},
    },
}
