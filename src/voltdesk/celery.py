"""Celery application: tasks run in-process in the demo and tests, on workers in production."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voltdesk.settings")

app = Celery("voltdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Celery beat: the periodic jobs of every app, in one schedule. Each app that has
# periodic jobs keeps them in its ``beat.py`` (BEAT_SCHEDULE); all are merged here,
# so a new app's jobs cannot be forgotten.
def _beat_schedule() -> dict:
    import importlib
    import importlib.util

    from django.conf import settings

    schedule: dict = {}
    for app_name in settings.INSTALLED_APPS:
        if not app_name.startswith("voltdesk."):
            continue
        module_name = f"{app_name}.beat"
        if importlib.util.find_spec(module_name) is None:
            continue
        entries = importlib.import_module(module_name).BEAT_SCHEDULE
        clash = set(entries) & set(schedule)
        if clash:
            raise RuntimeError(f"beat entries defined twice: {sorted(clash)}")
        schedule.update(entries)
    return schedule


app.conf.beat_schedule = _beat_schedule()
