"""VoltDesk settings: one module, read from the environment.

Business configuration (thresholds, SLAs, tariffs, calendars) lives in the
database (``core.Utility``), never here.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("VOLTDESK_VAR_DIR", PROJECT_DIR / "var"))
# The SQLite database, collected static files and the demo's mail live here.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("VOLTDESK_DEBUG", False)
SECRET_KEY = os.environ.get("VOLTDESK_SECRET_KEY") or (
    # A fixed key is acceptable only for the local demo and tests; production sets one.
    "voltdesk-insecure-development-key-change-me"
)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("VOLTDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("VOLTDESK_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "voltdesk.core",
    "voltdesk.customers",
    "voltdesk.billing",
    "voltdesk.metering",
    "voltdesk.notifications",
    "voltdesk.keyaccounts",
    "voltdesk.workorders",
    "voltdesk.knowledge",
    "voltdesk.analytics",
    "voltdesk.prepaid",
    "voltdesk.appointments",
    "voltdesk.demand",
    "voltdesk.api",
    "voltdesk.desk",
    "voltdesk.portal",
    "voltdesk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "voltdesk.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "voltdesk.urls"
WSGI_APPLICATION = "voltdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "voltdesk.core.context_processors.utility",
                "voltdesk.demand.context_processors.demand_banner",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'voltdesk.sqlite3'}"),
        conn_max_age=int(os.environ.get("VOLTDESK_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the Celery worker and the web process share the demo database.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    # A file, not memory, so that a real Celery worker process can share the test
    # database; one per test run so that parallel runs never meet.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("VOLTDESK_TEST_DB")
        or str(VAR_DIR / f"test-voltdesk-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("he", _("Hebrew")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["voltdesk.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # Storage is UTC; the utility's own time zone comes from its profile.

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Celery: in-process (eager) for the demo and tests unless a broker is named.
# A cache every process on the machine shares (forecasts behind the staffing plan
# take seconds to fit): Redis when VOLTDESK_CACHE_URL names one, else files.
if os.environ.get("VOLTDESK_CACHE_URL", "").startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["VOLTDESK_CACHE_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL" not in os.environ
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

# Outgoing e-mail: a real SMTP server (loopback in tests, the utility's relay in production).
EMAIL_BACKEND = os.environ.get(
    "VOLTDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"  # the demo writes e-mails here (file backend)
EMAIL_HOST = os.environ.get("VOLTDESK_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("VOLTDESK_EMAIL_PORT", "1025"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("VOLTDESK_FROM_EMAIL", "service@voltdesk.invalid")

# SMS: an HTTP gateway; the demo and tests use the bundled simulator.
SMS_GATEWAY_URL = os.environ.get("VOLTDESK_SMS_GATEWAY_URL", "")
SMS_GATEWAY_SECRET = os.environ.get("VOLTDESK_SMS_GATEWAY_SECRET", "simulator-secret")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VOLTDESK_LOG_LEVEL", "WARNING")},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
