"""Celery beat entries of the work-order desk; merged into the app's beat_schedule."""

BEAT_SCHEDULE = {
    "workorders-watch-sla": {
        "task": "voltdesk.workorders.tasks.watch_sla",
        "schedule": 300.0,  # every 5 minutes: the shortest warning lead is 15 minutes
        "options": {"expires": 240},  # a late run is replaced by the next one
    },
}
