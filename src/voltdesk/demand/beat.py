"""Celery beat entries of excess-demand events; merged into the app's beat_schedule."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "demand-sweep-fanouts": {
        "task": "voltdesk.demand.tasks.sweep_fanouts",
        "schedule": 60.0,  # a range a dead worker left is re-run within a minute
        "options": {"expires": 55},
    },
    # After the morning weather update: proposals are on the desk before the
    # demand manager's day starts, a full day ahead of the first day proposed.
    "demand-propose-events-daily": {
        "task": "voltdesk.demand.tasks.propose_demand_events",
        "schedule": crontab(hour=6, minute=10),
    },
}
