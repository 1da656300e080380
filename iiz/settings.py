"""One settings module for every deployment, read from the environment.

The embedded default (no variables set) is the demo: SQLite under ``var/``, Celery tasks run inline,
files stored under ``var/media``. Production is chosen with ``IIZ_MODE=production`` and configured with
``DATABASE_URL``, ``REDIS_URL``, ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IIZ_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


IIZ_MODE = os.environ.get("IIZ_MODE", "demo").strip().lower()
if IIZ_MODE not in {"demo", "production"}:
    raise ImproperlyConfigured("IIZ_MODE must be 'demo' or 'production'.")
PRODUCTION = IIZ_MODE == "production"
DEMO_MODE = not PRODUCTION

DEBUG = env_bool("DJANGO_DEBUG", False)

if PRODUCTION:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to at least 50 random characters.")
else:
    # The demo runs on a laptop without configuration; its key protects nothing of value.
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-" + "k7Qw2x9Lr4Vt8Zp1Hs6Nc3Bm5Jf0Dg7Ye2Ua9Ti4Ro8Ek1Wl")

# Keys for encryption at rest (Fernet, newest first). The demo's key is public and protects only
# synthetic data; production must set its own and keep it outside the database and file backups.
IIZ_ENCRYPTION_KEYS = env_list("IIZ_ENCRYPTION_KEYS")
if not IIZ_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("IIZ_ENCRYPTION_KEYS must be set in production (Fernet keys, newest first).")
    IIZ_ENCRYPTION_KEYS = ["dFch5XvfGffQMvBPkSJlKrhzWnhA4uFf6Jn0LIQXw5o="]

# The audit trail's keys (see iiz/audit/chain.py). IIZ_AUDIT_KEYS: HMAC keys (base64, 32 bytes or more), newest
# first; every process that writes audit entries needs them. IIZ_AUDIT_SIGNING_KEYS: Ed25519 seeds (base64,
# 32 bytes), newest first, needed only by the sealer; IIZ_AUDIT_VERIFY_KEYS: public halves of retired signing
# keys. None of them may be stored in the database or its backups. `manage.py audit_keys` makes new ones.
IIZ_AUDIT_KEYS = env_list("IIZ_AUDIT_KEYS")
IIZ_AUDIT_SIGNING_KEYS = env_list("IIZ_AUDIT_SIGNING_KEYS")
IIZ_AUDIT_VERIFY_KEYS = env_list("IIZ_AUDIT_VERIFY_KEYS")
if not IIZ_AUDIT_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("IIZ_AUDIT_KEYS must be set in production (see `manage.py audit_keys`).")
    # Public demo keys: they protect only the demo's synthetic trail.
    IIZ_AUDIT_KEYS = ["ZGVtby1vbmx5LWF1ZGl0LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24"]
    IIZ_AUDIT_SIGNING_KEYS = IIZ_AUDIT_SIGNING_KEYS or ["ZGVtby1vbmx5LXNpZ25pbmcta2V5LTMyLWJ5dGVzISE"]
# The signed checkpoints of the chain: a directory outside the database (in production mounted from an
# append-only object store), written by the sealer, read by `audit_verify`.
IIZ_AUDIT_CHECKPOINT_DIR = Path(os.environ.get("IIZ_AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints"))
IIZ_AUDIT_CHECKPOINT_ENTRIES = int(os.environ.get("IIZ_AUDIT_CHECKPOINT_ENTRIES", "1000"))
IIZ_AUDIT_CHECKPOINT_SECONDS = int(os.environ.get("IIZ_AUDIT_CHECKPOINT_SECONDS", "60"))
# Entries waiting for the sealer longer than this make `audit_verify` fail (an alert: is the sealer running?).
IIZ_AUDIT_UNSEALED_MAX_SECONDS = int(os.environ.get("IIZ_AUDIT_UNSEALED_MAX_SECONDS", "300"))
IIZ_AUDIT_SEAL_BATCH = int(os.environ.get("IIZ_AUDIT_SEAL_BATCH", "5000"))
# How far before the last seal the sealer looks for entries committed late (long transactions).
IIZ_AUDIT_SEAL_LOOKBACK = int(os.environ.get("IIZ_AUDIT_SEAL_LOOKBACK_SECONDS", "86400"))

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "iiz.core",
    "iiz.outbox",
    "iiz.organisations",
    "iiz.clients",
    "iiz.cases",
    "iiz.frontdoor",
    "iiz.exchange",
    "iiz.steering",
    "iiz.audit",
    "iiz.interfaces",
    "iiz.demo",
]

MIDDLEWARE = [
    "iiz.core.middleware.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every answer of the application carries personal data or may: never kept by a browser or proxy.
    "iiz.core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "iiz.core.middleware.GermanByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "iiz.core.middleware.AbsoluteSessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "iiz.core.middleware.SecondFactorMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication, so that it knows who was refused (DRF sets the token's user on the request).
    "iiz.core.middleware.DenialAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must come last so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "iiz.urls"
WSGI_APPLICATION = "iiz.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "iiz" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "iiz.core.context_processors.platform",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'iiz.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while the generator writes; the timeout avoids "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organisations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "iiz.organisations.backends.IizBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# A second factor (TOTP) is mandatory in production and optional in the demo.
IIZ_REQUIRE_OTP = env_bool("IIZ_REQUIRE_OTP", PRODUCTION)
OTP_TOTP_ISSUER = "iiz Kanton Zürich"

# Lock an account after repeated failed logins from the same address.
AXES_FAILURE_LIMIT = int(os.environ.get("IIZ_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("IIZ_LOGIN_COOLOFF_MINUTES", "30")))
# Per account and address, and per account across addresses (password spraying from many addresses).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Idle timeout: each request pushes the expiry forward, so the session ends after this much inactivity.
SESSION_COOKIE_AGE = int(os.environ.get("IIZ_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
# However active, a session ends this many hours after sign-in.
IIZ_SESSION_MAX_HOURS = int(os.environ.get("IIZ_SESSION_MAX_HOURS", "10"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("fr", _("Français")), ("it", _("Italiano")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "iiz" / "locale"]
# Swiss conventions in all four languages: 06.12.2026, CHF 1'112'000, 66.7 % (iiz/formats).
FORMAT_MODULE_PATH = ["iiz.formats"]
TIME_ZONE = "Europe/Zurich"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "iiz" / "static"]
if not PRODUCTION:
    # WhiteNoise expects the directory even when the demo serves assets from the source tree.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The demo serves its assets straight from the source tree; production serves collected, hashed files.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files hold personal data: they live outside the static tree and are served only by views
# that check access first.
MEDIA_ROOT = Path(os.environ.get("IIZ_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
IIZ_UPLOAD_MAX_BYTES = int(os.environ.get("IIZ_UPLOAD_MAX_MB", "10")) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # The cache holds rate-limit counters and import progress only: while Redis is down it answers as an empty
    # cache (iiz/lib/cache.py), and a Redis that hangs costs a request half a second at most.
    CACHES = {
        "default": {
            "BACKEND": "iiz.lib.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: with Redis the workers take the tasks; without it (the embedded default) tasks run inline. Every
# task is sent through the outbox (iiz/outbox), which survives a broker outage and a lost worker.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or env_bool("IIZ_TASKS_INLINE", False)
CELERY_TASK_EAGER_PROPAGATES = True
# A message is acknowledged when its task has finished, and given back to the queue when the worker process
# dies under it; one message at a time per worker process, so that a long job holds no others back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The longest job (an import of a large file, a report) may run this long before Celery stops it; Redis hands
# an unacknowledged message to another worker only after twice that, so a running job is never run twice.
IIZ_JOB_TIME_LIMIT = int(os.environ.get("IIZ_JOB_TIME_LIMIT_SECONDS", "3600"))
CELERY_TASK_TIME_LIMIT = IIZ_JOB_TIME_LIMIT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * IIZ_JOB_TIME_LIMIT,
    # A broker that is down or hangs fails a hand-over quickly; the outbox keeps the work.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Without a worker (the embedded demo) the audit entries are sealed right after each commit; with one, the
# beat task below seals them every few seconds.
IIZ_AUDIT_SEAL_INLINE = env_bool("IIZ_AUDIT_SEAL_INLINE", CELERY_TASK_ALWAYS_EAGER)
CELERY_TIMEZONE = TIME_ZONE
# A running task beats on its outbox row this often; the dispatcher runs a task again whose worker has not
# beaten for the stall time (a worker killed or its machine gone).
IIZ_OUTBOX_HEARTBEAT_SECONDS = float(os.environ.get("IIZ_OUTBOX_HEARTBEAT_SECONDS", "15"))
IIZ_OUTBOX_STALL_SECONDS = int(os.environ.get("IIZ_OUTBOX_STALL_SECONDS", "120"))
# /readyz answers 503 when the broker is down and background work has waited longer than this.
IIZ_READY_BACKLOG_SECONDS = int(os.environ.get("IIZ_READY_BACKLOG_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    # The outbox's dispatcher; `manage.py outbox_dispatch` does the same by hand. A run that waited in the
    # queue longer than its interval is dropped: the next one does the same work.
    "outbox-dispatch": {"task": "iiz.outbox.tasks.outbox_dispatch", "schedule": 10.0, "options": {"expires": 10}},
    # The daily reminder job; `manage.py send_reminders` does the same from cron or by hand.
    "reminders-daily": {"task": "iiz.cases.tasks.reminders_daily", "schedule": crontab(hour=6, minute=30)},
    "retention-daily": {"task": "iiz.clients.tasks.retention_daily", "schedule": crontab(hour=2, minute=15)},
    "report-retention-daily": {
        "task": "iiz.frontdoor.tasks.reports_retention_daily",
        "schedule": crontab(hour=2, minute=45),
    },
    # Webhook deliveries whose next attempt is due; `manage.py webhooks_retry` does the same by hand.
    "webhooks-retry": {"task": "iiz.interfaces.tasks.webhooks_retry_due", "schedule": crontab(minute="*")},
    # Import files nobody confirmed: deleted after IIZ_IMPORT_FILE_HOURS.
    "import-files": {"task": "iiz.interfaces.tasks_imports.import_files_expire_due", "schedule": crontab(minute=20)},
    # The audit sealer; `manage.py audit_seal --loop` does the same where no beat runs.
    "audit-seal": {"task": "iiz.audit.tasks.audit_seal_due", "schedule": timedelta(seconds=5)},
}

# Webhook targets: host names (or ".suffix" for a domain) that the operators allow; only public https hosts.
# The demo allows the fictional partner domains; production allows nothing until it is set.
IIZ_WEBHOOK_ALLOWED_HOSTS = env_list("IIZ_WEBHOOK_ALLOWED_HOSTS", "" if PRODUCTION else ".example.ch,.example")

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
# For the file backend (django.core.mail.backends.filebased.EmailBackend), e.g. in a test environment.
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "iiz-plattform@localhost")

# The REST API for the partners' systems (iiz/interfaces): tokens or the browser session, JSON only, errors as
# RFC 9457 problem details, a rate limit per token.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "iiz.interfaces.schema.IizAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "iiz.interfaces.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "iiz.interfaces.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["iiz.interfaces.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": os.environ.get("IIZ_API_RATE", "600/min")},
    "EXCEPTION_HANDLER": "iiz.interfaces.problems.problem_exception_handler",
    # OPTIONS would describe the views' serializers; the OpenAPI schema does that.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "iiz API",
    "DESCRIPTION": (
        "Case management for inter-institutional collaboration in the canton of Zürich. Partner systems "
        "authenticate with a bearer token of their institution (`Authorization: Bearer <prefix>.<secret>`); the "
        "token acts for its institution under the same access rules and audit trail as the web pages. Errors are "
        "RFC 9457 problem details (`application/problem+json`). Updates need `If-Match` with the ETag of the last "
        "read. Messages are in German unless `lang` asks for fr, it or en."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH names its required fields too (agreement status); optional ones are optional anyway.
    "COMPONENT_SPLIT_PATCH": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # The documentation is served from the sidecar package: the platform runs in a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "iiz.interfaces.schema.postprocess_strict_requests",
    ],
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "iiz.interfaces.models.WebhookEvent",
        "DeliveryStatusEnum": "iiz.interfaces.models.DeliveryStatus",
        "ImportStatusEnum": "iiz.interfaces.models_imports.ImportStatus",
        "DataCategoryEnum": "iiz.clients.models.DataCategory",
        "CaseStatusEnum": "iiz.cases.models.CaseStatus",
        "PlanStatusEnum": "iiz.cases.models.PlanStatus",
        "MeasureStatusEnum": "iiz.cases.models.MeasureStatus",
        "AgreementStatusEnum": "iiz.cases.models.AgreementStatus",
        "ConsentStatusEnum": ["valid", "pending", "expired", "superseded", "revoked"],
    },
}

# Strict Content-Security-Policy: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind the cantonal reverse proxy, which terminates TLS and sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("IIZ_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Retention after case closure, in years per data category; "personal" applies to the person's identity
# once no case is open and no registration is active. JSON in IIZ_RETENTION_YEARS overrides single values.
IIZ_RETENTION_YEARS = {
    "medical": 2,
    "social_assistance": 2,
    "financial": 5,
    "occupational": 5,
    "personal": 10,
    # The reporter's contact and the reported person's data in a report, counted from the triage decision.
    "reporter": 1,
    **json.loads(os.environ.get("IIZ_RETENTION_YEARS", "{}")),
}

# Uploaded import files (AHV numbers, names, birth dates) are deleted when the batch is taken or refused, and
# at the latest this many hours after the upload when nobody confirmed it (the check must then be redone).
IIZ_IMPORT_FILE_HOURS = int(os.environ.get("IIZ_IMPORT_FILE_HOURS", "72"))

# Small-number suppression and other domain defaults that operators may change.
IIZ_SEARCH_RESULT_LIMIT = 50
# Counts of persons below this threshold are suppressed on strategic pages and in strategic reports.
IIZ_SUPPRESSION_THRESHOLD = int(os.environ.get("IIZ_SUPPRESSION_THRESHOLD", "5"))

# eCH messages (person deliveries for a sedex adapter). The participant id and the message type are assigned
# by sedex; the defaults mark demo messages. localPersonId carries the platform's id under this category.
IIZ_SEDEX_ID = os.environ.get("IIZ_SEDEX_ID", "T0-iiz-zh-demo")
IIZ_SEDEX_MESSAGE_TYPE = os.environ.get("IIZ_SEDEX_MESSAGE_TYPE", "iiz-person-delivery")
IIZ_ECH_PERSON_ID_CATEGORY = os.environ.get("IIZ_ECH_PERSON_ID_CATEGORY", "CT.ZH.IIZ")
# The most persons one exported message may hold when asked for over the API (each is audited).
IIZ_ECH_EXPORT_LIMIT = int(os.environ.get("IIZ_ECH_EXPORT_LIMIT", "2000"))

# The public report form (Anlaufstelle): reports per address (django-ratelimit syntax, e.g. "5/h"). Behind
# the cantonal reverse proxy, IIZ_CLIENT_IP_HEADER names the header with the client's address (e.g.
# HTTP_X_REAL_IP); without it the connection's address counts.
IIZ_REPORT_RATE = os.environ.get("IIZ_REPORT_RATE", "5/h")
RATELIMIT_IP_META_KEY = os.environ.get("IIZ_CLIENT_IP_HEADER") or None
