"""Celery beat entries of the business club; merge into the app's beat_schedule."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "keyaccounts-evaluate-club-monthly": {
        "task": "voltdesk.keyaccounts.tasks.evaluate_club_monthly",
        # 03:15 UTC on the 1st: already the 1st in Israel (UTC+2/+3) and China (UTC+8),
        # so the window ends at the local midnight that closed the last month.
        "schedule": crontab(minute=15, hour=3, day_of_month=1),
        "options": {"expires": 6 * 3600},  # a missed run is better re-run by hand than late
    },
    "keyaccounts-annual-meetings-monthly": {
        "task": "voltdesk.keyaccounts.tasks.ensure_annual_meetings_monthly",
        # After the evaluation above, so the month's new members are counted too.
        "schedule": crontab(minute=45, hour=3, day_of_month=1),
        "options": {"expires": 6 * 3600},
    },
}
