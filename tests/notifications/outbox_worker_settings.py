"""Settings for the Celery worker started by test_outbox_worker: fast retries, same database."""

from voltdesk.settings import *  # noqa: F403

NOTIFICATIONS_RETRY_BASE_SECONDS = 0.2
NOTIFICATIONS_RETRY_MAX_SECONDS = 1
DEMAND_FANOUT_RANGE = 10  # many small ranges, so a worker can be killed among them
