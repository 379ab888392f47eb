"""Celery application: tasks run in-process in the demo and tests, on workers in production."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voltdesk.settings")

app = Celery("voltdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery beat: the periodic jobs of every app, in one schedule.
from voltdesk.keyaccounts.beat import BEAT_SCHEDULE as CLUB_SCHEDULE  # noqa: E402
from voltdesk.notifications.beat import BEAT_SCHEDULE as NOTIFICATIONS_SCHEDULE  # noqa: E402
from voltdesk.workorders.beat import BEAT_SCHEDULE as WORKORDERS_SCHEDULE  # noqa: E402

app.conf.beat_schedule = {**NOTIFICATIONS_SCHEDULE, **CLUB_SCHEDULE, **WORKORDERS_SCHEDULE}
