"""Celery beat entries of excess-demand events; merged into the app's beat_schedule."""

BEAT_SCHEDULE = {
    "demand-sweep-fanouts": {
        "task": "voltdesk.demand.tasks.sweep_fanouts",
        "schedule": 60.0,  # a range a dead worker left is re-run within a minute
        "options": {"expires": 55},
    },
}
