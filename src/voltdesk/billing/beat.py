"""Celery beat entries of billing; merged into the app's beat_schedule (voltdesk/celery.py)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "billing-expire-online-payments": {
        "task": "voltdesk.billing.tasks.expire_online_payments",
        "schedule": 300.0,  # every 5 minutes: a payment times out after 30
        "options": {"expires": 240},
    },
    "billing-collect-debts": {
        "task": "voltdesk.billing.tasks.collect_debts",
        # Early each day (UTC): arrangements first, so a broken one's bills are charged.
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # E-invoices for newly paid bills and e-bills for newly issued ones (einvoice_tasks).
    "billing-issue-einvoices": {
        "task": "voltdesk.billing.einvoice_tasks.issue_einvoices",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "billing-send-ebills": {
        "task": "voltdesk.billing.einvoice_tasks.send_ebills",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
}
