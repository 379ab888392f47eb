"""Every periodic job in the beat schedule names a task that workers know."""

from voltdesk.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "voltdesk.notifications.tasks.dispatch_due_messages" in names
    assert "voltdesk.keyaccounts.tasks.evaluate_club_monthly" in names
    assert names <= set(app.tasks), names - set(app.tasks)


def test_every_apps_beat_module_is_in_the_schedule():
    import importlib
    import pkgutil

    import voltdesk

    merged = set(app.conf.beat_schedule)
    for module in pkgutil.iter_modules(voltdesk.__path__):
        try:
            beat = importlib.import_module(f"voltdesk.{module.name}.beat")
        except ModuleNotFoundError:
            continue
        assert set(beat.BEAT_SCHEDULE) <= merged, module.name
    # Late fees and payment time-outs run: billing's jobs were once left out.
    assert {"billing-collect-debts", "billing-expire-online-payments"} <= merged
