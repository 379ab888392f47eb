"""Celery beat entries of appointments; merged into the app's beat_schedule."""

BEAT_SCHEDULE = {
    "appointments-send-reminders": {
        "task": "voltdesk.appointments.tasks.send_reminders",
        # Every hour: a run reminds tomorrow's visits not yet reminded, in daytime only.
        "schedule": 3600.0,
        "options": {"expires": 3000},  # a late run is replaced by the next one
    },
}
