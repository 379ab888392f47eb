"""Settings for the intake benchmark's gunicorn: the product's, plus a bare view."""

from voltdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": True}
