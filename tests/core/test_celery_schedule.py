"""Every periodic job in the beat schedule names a task that workers know."""

from voltdesk.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "voltdesk.notifications.tasks.dispatch_due_messages" in names
    assert "voltdesk.keyaccounts.tasks.evaluate_club_monthly" in names
    assert names <= set(app.tasks), names - set(app.tasks)
