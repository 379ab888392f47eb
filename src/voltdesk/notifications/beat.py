"""Celery beat entries of the notifications outbox; merge into the app's beat_schedule."""

BEAT_SCHEDULE = {
    "notifications-dispatch-due": {
        "task": "voltdesk.notifications.tasks.dispatch_due_messages",
        "schedule": 60.0,  # seconds; a lost message waits at most about this plus the grace
        "options": {"expires": 55},  # a backlog of sweeps is useless: the next one covers it
    },
}
