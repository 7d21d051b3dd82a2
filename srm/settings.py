"""SRM settings, read from the environment only.

With nothing set, SRM runs on the embedded default: a SQLite file under ``var/`` and Celery
on kombu's ``filesystem://`` broker (a folder under ``var/``), so no server is needed.
``DATABASE_URL=postgres://…`` and ``CELERY_BROKER_URL=redis://…`` switch to the production
stack. See README.md for every variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

from operations.logs import logging_config
from operations.tracking import error_tracking_init

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SRM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-embedded-default-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # Running it as a service (outbox, health, metrics, logs, backups); imports no app of ours.
    "operations",
    # Organisation core first: the other apps build on it.
    "governance",
    "approvals",
    "requests_app",
    "accountability",
    "kpis",
    "demo",
]

MIDDLEWARE = [
    # First: the request id and the access line cover everything below.
    "operations.middleware.RequestIdMiddleware",
    # Under /api/, an error answered as a page (Django's own views, a 405) gets the error body.
    "kit.responses.ErrorBodyMiddleware",
    # Latency and database queries per view (/metrics).
    "operations.metrics.MetricsMiddleware",
    # X-Forwarded-Proto only from a proxy in TRUSTED_PROXIES, before anything asks is_secure().
    "kit.web.ForwardedProtoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy of every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kit.guard.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language, or the language cookie) …
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the person read in the session's own statement (SESSION_ENGINE below).
    "governance.identity.sessions.AuthenticationMiddleware",
    # … unless the signed-in person saved one on their profile.
    "kit.i18n.UserLanguageMiddleware",
    "kit.web.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by a lockout into the sign-in page saying so (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "srm.urls"
CSRF_FAILURE_VIEW = "operations.views.csrf_failure"
WSGI_APPLICATION = "srm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kit.navigation.nav",
                "governance.limits.limits",
            ],
            "libraries": {"srm": "srm.templatetags.srm",
                          "glossary": "srm.templatetags.glossary"},
            # |unlocalize everywhere: an id or a pk in an attribute is never "1,234".
            "builtins": ["django.templatetags.l10n"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'srm.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat all write to the one file: WAL lets readers run beside a writer,
    # IMMEDIATE transactions make writers queue for the lock instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Values are bound by the server and a statement run five times on a connection is
    # prepared there: parsed and planned once per connection instead of on every run (a fifth
    # to a half of PostgreSQL's CPU per request, docs/performance.md). A transaction-pooling
    # PgBouncer keeps prepared statements only from 1.21 on with max_prepared_statements set;
    # behind one that does not, SRM_DB_PREPARED_STATEMENTS=0 binds in the client instead.
    if env.bool("SRM_DB_PREPARED_STATEMENTS", default=True):
        _options.setdefault("server_side_binding", True)
        _options.setdefault("prepare_threshold", 5)
    # A server that does not answer fails the request in seconds instead of hanging it.
    _options.setdefault("connect_timeout", env.int("SRM_DB_CONNECT_TIMEOUT", default=5))
    # Web requests get a statement timeout (gunicorn.conf.py sets it to 10 s); workers, beat
    # and management commands run long reports and imports without one unless told.
    _statement_timeout = env.str("SRM_DB_STATEMENT_TIMEOUT", default="")
    if _statement_timeout:
        _options["options"] = (
            f"{_options.get('options', '')} -c statement_timeout={_statement_timeout}".strip())
    # No JIT compilation: the visibility rules' subqueries are estimated far above
    # jit_above_cost even when they touch a handful of rows, and compiling them cost
    # 10–25 ms per page for a query that runs in 0.1 ms (docs/performance.md).
    # SRM_DB_JIT=1 turns it back on (for example for a reporting replica).
    if not env.bool("SRM_DB_JIT", default=False):
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "governance.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Identity: single sign-on and the company directory (docs/identity.md) --------------------
# Nothing set: local logins only. OIDC_ISSUER set: the sign-in page offers "Sign in with
# OIDC_PROVIDER_NAME" (OpenID Connect, authorization code flow with PKCE, state and nonce).
# People are created or updated from the provider's claims at each sign-in.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your company account")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
# Every call to the provider (discovery, keys, token, user info) gives up after this long.
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
# The provider's discovery document (its endpoints) is kept this long in the cache.
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=3600)
# Claims: which claim carries what. An empty name: SRM does not take that fact from the
# provider (the person's department is then kept as an administrator set it).
OIDC_CLAIM_USERNAME = env.str("OIDC_CLAIM_USERNAME", default="preferred_username")
OIDC_CLAIM_EMAIL = env.str("OIDC_CLAIM_EMAIL", default="email")
OIDC_CLAIM_FIRST_NAME = env.str("OIDC_CLAIM_FIRST_NAME", default="given_name")
OIDC_CLAIM_LAST_NAME = env.str("OIDC_CLAIM_LAST_NAME", default="family_name")
OIDC_CLAIM_DEPARTMENT = env.str("OIDC_CLAIM_DEPARTMENT", default="department")
OIDC_CLAIM_MANAGER = env.str("OIDC_CLAIM_MANAGER", default="manager")
OIDC_CLAIM_GROUPS = env.str("OIDC_CLAIM_GROUPS", default="")
# Group names (as the groups claim lists them) that make a person an ops leader, an approver
# or an agent of their department; empty: the role is kept as an administrator set it.
OIDC_GROUP_OPS_LEADER = env.str("OIDC_GROUP_OPS_LEADER", default="")
OIDC_GROUP_APPROVER = env.str("OIDC_GROUP_APPROVER", default="")
OIDC_GROUP_AGENT = env.str("OIDC_GROUP_AGENT", default="")
# mozilla-django-oidc: PKCE (S256) and a nonce on every sign-in; the ID token is kept in the
# session for the provider's logout (RP-initiated logout, where the provider offers it).
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
OIDC_OP_LOGOUT_URL_METHOD = "governance.identity.oidc.provider_logout_url"
LOGIN_REDIRECT_URL_FAILURE = "login"

# LDAP_SERVER_URI set: the username and password are checked against the directory (LDAP or
# Active Directory), and the person is created or updated from their entry and groups.
LDAP_SERVER_URI = env.str("LDAP_SERVER_URI", default="")
if LDAP_SERVER_URI:
    from governance.identity.ldap_settings import ldap_settings

    globals().update(ldap_settings(env))

# Local passwords (SRM's own user table). Off: only superusers sign in with one (break-glass
# access when the provider is down); everyone else through the provider or the directory.
SRM_LOCAL_PASSWORDS = env.bool("SRM_LOCAL_PASSWORDS", default=True)

# django-axes checks every sign-in (login page, admin) before the password is: a locked account
# or address is refused even with the right password (governance/logins.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    *(["governance.identity.ldap.DirectoryBackend"] if LDAP_SERVER_URI else []),
    *(["governance.identity.oidc.ProviderBackend"] if OIDC_ISSUER else []),
    "governance.identity.passwords.LocalPasswordBackend",
]

# --- Time and money ---------------------------------------------------------------------------
# The product speaks English and German. A person's language is the one saved on their
# profile, else the browser's Accept-Language, else LANGUAGE_CODE (kit.i18n).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# One style for dates, times and numbers in each language (srm/formats/<language>/formats.py):
# a year on every absolute date, the 24-hour clock, thousands grouped. Identifiers in
# templates (ids, pks in attributes) use |unlocalize, available on every template.
FORMAT_MODULE_PATH = ["srm.formats"]
USE_THOUSAND_SEPARATOR = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Berlin")
# Calendar quarters are cut in this timezone.
SRM_REPORTING_TIMEZONE = env.str("SRM_REPORTING_TIMEZONE", default=TIME_ZONE)
SRM_REPORTING_CURRENCY = env.str("SRM_REPORTING_CURRENCY", default="EUR")
# Default finance threshold offered when an administrator adds a finance approval step.
SRM_FINANCE_THRESHOLD = Decimal(env.str("SRM_FINANCE_THRESHOLD", default="5000"))
# The finance department (by code): its head, deputy and approvers are the finance
# controllers who set and import budgets (docs/budgets.md).
SRM_FINANCE_DEPARTMENT = env.str("SRM_FINANCE_DEPARTMENT", default="FIN")
# Whether a decider may approve beyond the remaining budget, with a stated reason (off: the
# budget is a hard limit).
SRM_OVER_BUDGET_APPROVAL = env.bool("SRM_OVER_BUDGET_APPROVAL", default=True)
SRM_DEFAULT_COUNTRY = env.str("SRM_DEFAULT_COUNTRY", default="DE")
# A KPI's value is realised once it meets its target for this many consecutive weeks.
# The accountability pages read stored figures, recomputed by the refresh job every
# SRM_FIGURES_REFRESH_SECONDS; a page finding them older than SRM_FIGURES_MAX_AGE recomputes
# them itself (docs/accountability.md, "Stored figures").
SRM_FIGURES_REFRESH_SECONDS = env.int("SRM_FIGURES_REFRESH_SECONDS", default=300)
SRM_FIGURES_MAX_AGE = env.int("SRM_FIGURES_MAX_AGE", default=900)
# The board's open work (open/overdue steps, open risks, exposure) is recounted every minute.
SRM_FIGURES_OPEN_MAX_AGE = env.int("SRM_FIGURES_OPEN_MAX_AGE", default=120)
SRM_KPI_REALIZATION_PERIODS = env.int("SRM_KPI_REALIZATION_PERIODS", default=4)

# --- Delay governance (docs/delay-governance.md) ----------------------------------------------
# A delay risk is level 1 once the step is past due, level 2 once it is overdue by a further
# LEVEL2 fraction of its OLA, level 3 at the LEVEL3 fraction or beyond LEVEL3_BUSINESS_DAYS.
SRM_RISK_LEVEL2_OLA_FRACTION = Decimal(env.str("SRM_RISK_LEVEL2_OLA_FRACTION", default="0.5"))
SRM_RISK_LEVEL3_OLA_FRACTION = Decimal(env.str("SRM_RISK_LEVEL3_OLA_FRACTION", default="1.0"))
SRM_RISK_LEVEL3_BUSINESS_DAYS = Decimal(env.str("SRM_RISK_LEVEL3_BUSINESS_DAYS", default="3"))
# Notification e-mails: attempts before giving up, and the first retry delay (doubling).
SRM_NOTIFICATION_MAX_ATTEMPTS = env.int("SRM_NOTIFICATION_MAX_ATTEMPTS", default=8)
SRM_NOTIFICATION_RETRY_SECONDS = env.int("SRM_NOTIFICATION_RETRY_SECONDS", default=30)
# Absolute links in e-mails (the in-app list works without it).
# Tell requesters what happens to their requests, and deciders what waits for them
# (in-app and by e-mail, each person choosing which kinds to get by e-mail).
SRM_LIFECYCLE_NOTICES = env.bool("SRM_LIFECYCLE_NOTICES", default=True)
SRM_BASE_URL = env.str("SRM_BASE_URL", default="http://127.0.0.1:8000")
# A page or endpoint that answers without asking the visibility rule of a model it serves is
# an error (kit.rules): on in development and in the tests, off in production.
SRM_CHECK_RULES = env.bool("SRM_CHECK_RULES", default=DEBUG)

# --- Deciding from an e-mail's action links (docs/email-decisions.md) --------------------------
# How long the signed Approve / Reject / Ask links of a "waiting for your decision" e-mail
# work, in seconds (default 7 days); after that the link says so and links to the request.
SRM_EMAIL_ACTION_MAX_AGE = env.int("SRM_EMAIL_ACTION_MAX_AGE", default=7 * 24 * 3600)

# --- Deciding by e-mail reply (docs/email-decisions.md) ----------------------------------------
# The "waiting for your decision" e-mail's Reply-To is approvals+<signed token>@SRM_REPLY_DOMAIN
# (SRM_REPLY_MAILBOX is the part before the "+"); unset: no Reply-To, replies are not read.
SRM_REPLY_DOMAIN = env.str("SRM_REPLY_DOMAIN", default="")
SRM_REPLY_MAILBOX = env.str("SRM_REPLY_MAILBOX", default="approvals")
# The authserv-id of the server that receives the replies: when set, a reply its
# Authentication-Results header does not vouch for (DMARC or DKIM failed, or no header of
# that server) is refused.
SRM_TRUSTED_AUTHSERV_ID = env.str("SRM_TRUSTED_AUTHSERV_ID", default="")
# Polling the reply mailbox over IMAP (a Celery beat job, scheduled only when a host is set).
SRM_IMAP_HOST = env.str("SRM_IMAP_HOST", default="")
SRM_IMAP_PORT = env.int("SRM_IMAP_PORT", default=993)
SRM_IMAP_TLS = env.str("SRM_IMAP_TLS", default="ssl")  # ssl | starttls | none
SRM_IMAP_USER = env.str("SRM_IMAP_USER", default="")
SRM_IMAP_PASSWORD = env.str("SRM_IMAP_PASSWORD", default="")
SRM_IMAP_FOLDER = env.str("SRM_IMAP_FOLDER", default="INBOX")
SRM_IMAP_PROCESSED_FOLDER = env.str("SRM_IMAP_PROCESSED_FOLDER", default="SRM/processed")
SRM_IMAP_FAILED_FOLDER = env.str("SRM_IMAP_FAILED_FOLDER", default="SRM/failed")
SRM_IMAP_TIMEOUT = env.int("SRM_IMAP_TIMEOUT", default=30)
SRM_IMAP_POLL_SECONDS = env.int("SRM_IMAP_POLL_SECONDS", default=60)
SRM_IMAP_BATCH = env.int("SRM_IMAP_BATCH", default=50)
# Mail a provider POSTs (Mailgun's inbound routes through django-anymail): the webhook
# signing key of the Mailgun account; unset, /mail/inbound/mailgun/ answers 404.
ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default="")}

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Attachments (docs/conversation.md) -------------------------------------------------------
# Never under MEDIA_URL: files are served only by the view that applies the request's
# visibility rule. Local files by default; an S3-compatible bucket when ATTACHMENTS_S3_BUCKET
# is set (through django-storages).
ATTACHMENTS_S3_BUCKET = env.str("ATTACHMENTS_S3_BUCKET", default="")
if ATTACHMENTS_S3_BUCKET:
    STORAGES["attachments"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ATTACHMENTS_S3_BUCKET,
            "endpoint_url": env.str("ATTACHMENTS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("ATTACHMENTS_S3_REGION", default="") or None,
            "access_key": env.str("ATTACHMENTS_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("ATTACHMENTS_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("ATTACHMENTS_S3_PREFIX", default="attachments"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    STORAGES["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env.str("ATTACHMENTS_DIR", default=str(VAR_DIR / "attachments")),
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }
SRM_ATTACHMENT_MAX_BYTES = env.int("SRM_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
SRM_ATTACHMENT_ALLOWED_TYPES = env.list("SRM_ATTACHMENT_ALLOWED_TYPES", default=[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "text/csv",
    "text/plain",
])
# The largest request body accepted at all (an import file or a comment with its attachments),
# refused with 413 by its Content-Length before it is read; the reverse proxy in
# docker-compose.yml has the same limit. A body without files may hold at most
# DATA_UPLOAD_MAX_MEMORY_SIZE.
SRM_MAX_REQUEST_BYTES = env.int("SRM_MAX_REQUEST_BYTES", default=32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Each uploaded file is counted while it streams in and refused (413) past its page's limit
# (SRM_ATTACHMENT_MAX_BYTES, or what the page declares: kit/uploads.py), before the rest is
# read or written to a temporary file.
FILE_UPLOAD_HANDLERS = [
    "kit.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# A JSON body may nest arrays and objects at most this deep (checked before it is parsed;
# deeper is a 400 `json_too_deep`). SRM's own bodies nest 3 levels.
SRM_JSON_MAX_DEPTH = env.int("SRM_JSON_MAX_DEPTH", default=32)
# At most this many files in one form post (a comment with its attachments).
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# --- Legacy imports (docs/operations.md, "Imports") -------------------------------------------
# A file is checked before it is parsed: its size, and for an XLSX (a zip) the size its parts
# unpack to and their compression ratio (a zip bomb unpacks to gigabytes from kilobytes).
SRM_IMPORT_MAX_BYTES = env.int("SRM_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
SRM_IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = env.int("SRM_IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES",
                                                 default=200 * 1024 * 1024)
SRM_IMPORT_XLSX_MAX_RATIO = env.int("SRM_IMPORT_XLSX_MAX_RATIO", default=100)
# No cell may be longer (a longer one is a row error, or for a CSV refuses the file); at most
# this many bad rows are kept and shown (all are counted).
SRM_IMPORT_MAX_CELL_CHARS = env.int("SRM_IMPORT_MAX_CELL_CHARS", default=20_000)
SRM_IMPORT_MAX_ERRORS = env.int("SRM_IMPORT_MAX_ERRORS", default=1000)
# A running job writes a heartbeat on its row after each batch; the reaper (every minute)
# re-queues a job whose heartbeat is older than this, and fails it after this many attempts.
SRM_IMPORT_STALE_SECONDS = env.int("SRM_IMPORT_STALE_SECONDS", default=300)
SRM_IMPORT_MAX_ATTEMPTS = env.int("SRM_IMPORT_MAX_ATTEMPTS", default=3)
# Per-task limits of the import task (under the broker's visibility timeout).
SRM_IMPORT_SOFT_TIME_LIMIT = env.int("SRM_IMPORT_SOFT_TIME_LIMIT", default=3000)
SRM_IMPORT_TIME_LIMIT = env.int("SRM_IMPORT_TIME_LIMIT", default=3300)
# Uploaded files are deleted when their job ends; a failed job's file is kept this many days.
SRM_IMPORT_KEEP_FAILED_DAYS = env.int("SRM_IMPORT_KEEP_FAILED_DAYS", default=7)
# Import uploads: readable by the service's user only.
STORAGES["imports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
}
# "More information needed": remind the requester after this many business days of the
# accountable department, cancel the request after this many.
SRM_HOLD_REMIND_BUSINESS_DAYS = env.int("SRM_HOLD_REMIND_BUSINESS_DAYS", default=2)
SRM_HOLD_CANCEL_BUSINESS_DAYS = env.int("SRM_HOLD_CANCEL_BUSINESS_DAYS", default=10)
# A quarter of the cost-of-delay ledger closes at the end of this many business days after it
# ends; later corrections post into the open quarter as adjustments (docs/accountability.md).
SRM_LEDGER_CLOSE_BUSINESS_DAYS = env.int("SRM_LEDGER_CLOSE_BUSINESS_DAYS", default=5)

# --- Celery -----------------------------------------------------------------------------------
# Seconds any wait on the broker may take (connect, send, read a reply).
SRM_BROKER_TIMEOUT = env.float("SRM_BROKER_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_TIMEOUT = SRM_BROKER_TIMEOUT
# The filesystem transport ignores the host; naming one spares kombu's "No hostname" warning.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "data_folder_processed": str(_processed_dir),
        "store_processed": False,
        "control_folder": str(_control_dir),
    }
else:
    # visibility_timeout: longer than the longest task's hard time limit, so a task is never
    # delivered twice while it is still running. The socket timeouts bound every wait on the
    # broker (a frozen Redis accepts connections and never answers): nothing waits longer.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_timeout": SRM_BROKER_TIMEOUT,
        "socket_connect_timeout": SRM_BROKER_TIMEOUT,
    }
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env.int("SRM_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("SRM_TASK_TIME_LIMIT", default=300)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Publishing retries at most once, quickly: the outbox publishes again later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# A worker child that grew past this (KiB) is replaced after its task: one huge import cannot
# keep a worker at gigabytes.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("SRM_WORKER_MAX_MEMORY_KB", default=512 * 1024)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("SRM_WORKER_MAX_TASKS_PER_CHILD", default=1000)
# Django's LOGGING formats the worker's lines too (UTC, JSON in production).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's scheduler touches SRM_BEAT_ALIVE_FILE on every tick (manage.py healthcheck --beat).
CELERY_BEAT_SCHEDULER = "operations.beat.Scheduler"
SRM_BEAT_ALIVE_FILE = env.str("SRM_BEAT_ALIVE_FILE", default=str(VAR_DIR / "beat.alive"))
# The one place the periodic jobs are declared. ``expires`` drops runs that queued up while no
# worker was there: the next run does the same work, so there is no point doing it N times.
CELERY_BEAT_SCHEDULE: dict = {
    # The task outbox (operations/outbox.py): publishes what requests enqueued, in case the
    # web process could not (broker down or frozen, process restarted).
    "dispatch-outbox": {
        "task": "operations.tasks.dispatch_outbox",
        "schedule": float(env.int("SRM_OUTBOX_DISPATCH_SECONDS", default=10)),
        "options": {"expires": 9},
    },
    # Proves that beat, the broker and a worker work together (/healthz/jobs).
    "worker-heartbeat": {
        "task": "operations.tasks.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "flag-delays": {
        "task": "accountability.tasks.flag_delays",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # The outbox sweep: delivers whatever the on-commit enqueue could not (broker or worker
    # down, a failed attempt waiting for its retry time).
    "deliver-notifications": {
        "task": "accountability.tasks.deliver_notifications",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Imports whose worker died are re-queued (or failed after SRM_IMPORT_MAX_ATTEMPTS).
    "reap-imports": {
        "task": "accountability.tasks.reap_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "purge-import-files": {
        "task": "accountability.tasks.purge_import_files",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3500},
    },
    "refresh-open-work": {
        "task": "accountability.tasks.refresh_open_work",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "refresh-figures": {
        "task": "accountability.tasks.refresh_figures",
        "schedule": float(SRM_FIGURES_REFRESH_SECONDS),
        "options": {"expires": max(30, SRM_FIGURES_REFRESH_SECONDS - 10)},
    },
    # Reminds requesters who have not answered a question, cancels requests past the limit.
    "process-step-holds": {
        "task": "approvals.tasks.process_holds",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60},
    },
    "kpi-snapshots-daily": {
        "task": "kpis.tasks.kpi_snapshots_refresh",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 20 * 3600},
    },
    "remind-overdue-retirements": {
        "task": "accountability.tasks.remind_overdue_retirements",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 20 * 3600},
    },
    "weekly-digests": {
        "task": "accountability.tasks.send_digests",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
        # Late digests are still worth sending during the week they describe.
        "options": {"expires": 4 * 24 * 3600},
    },
    "daily-summaries": {
        "task": "accountability.tasks.send_daily_summaries",
        "schedule": crontab(minute=30, hour=7),
        "options": {"expires": 12 * 3600},
    },
}
# Answers to replies that the on-commit task could not send (docs/email-decisions.md).
if SRM_REPLY_DOMAIN:
    CELERY_BEAT_SCHEDULE["answer-inbound-mail"] = {
        "task": "accountability.tasks.answer_inbound_mail",
        "schedule": 60.0,
        "options": {"expires": 55},
    }
# Replies to approval e-mails in an IMAP mailbox (docs/email-decisions.md): only when one is set.
if SRM_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["poll-reply-mailbox"] = {
        "task": "accountability.tasks.poll_reply_mailbox",
        "schedule": float(SRM_IMAP_POLL_SECONDS),
        "options": {"expires": max(10, SRM_IMAP_POLL_SECONDS - 5)},
    }

# --- Cache ------------------------------------------------------------------------------------
# The API's throttles, the sign-in lockouts and the password-reset limits count in the cache.
# The embedded default is per process (one `make run` web process); production and
# docker-compose set CACHE_URL=redis://… so every gunicorn worker and node shares the counts
# (`manage.py check --deploy` warns when a PostgreSQL deployment has no shared cache).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://srm")}
SRM_SECURITY_CACHE = "default"

# --- Sign-in lockouts and password resets (SECURITY.md, "Sign-in") ---------------------------
# Failed sign-ins are counted per account (the name typed) and per client address. At the
# limit the account or address is locked for SRM_LOGIN_LOCKOUT_SECONDS; each further failure
# doubles the wait up to SRM_LOGIN_LOCKOUT_MAX_SECONDS. Counts are forgotten this many seconds
# after the last failure (and an account's on a successful sign-in).
SRM_LOGIN_ACCOUNT_FAILURES = env.int("SRM_LOGIN_ACCOUNT_FAILURES", default=5)
SRM_LOGIN_ADDRESS_FAILURES = env.int("SRM_LOGIN_ADDRESS_FAILURES", default=30)
SRM_LOGIN_LOCKOUT_SECONDS = env.int("SRM_LOGIN_LOCKOUT_SECONDS", default=60)
SRM_LOGIN_LOCKOUT_MAX_SECONDS = env.int("SRM_LOGIN_LOCKOUT_MAX_SECONDS", default=3600)
SRM_LOGIN_FAILURE_MEMORY = env.int("SRM_LOGIN_FAILURE_MEMORY", default=24 * 3600)
# Password-reset mails: at most this many per e-mail address, and requests per client address,
# per window.
SRM_PASSWORD_RESET_PER_EMAIL = env.int("SRM_PASSWORD_RESET_PER_EMAIL", default=3)
SRM_PASSWORD_RESET_PER_IP = env.int("SRM_PASSWORD_RESET_PER_IP", default=10)
SRM_PASSWORD_RESET_WINDOW = env.int("SRM_PASSWORD_RESET_WINDOW", default=3600)
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client — the lockouts
# count per client address, never per proxy — and whose X-Forwarded-Proto says whether the
# client used HTTPS (SECURE_PROXY_SSL_HEADER below).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_HANDLER = "governance.signin.SignInHandler"
AXES_LOCKOUT_CALLABLE = "governance.views.signin_locked_out"
AXES_CLIENT_IP_CALLABLE = "kit.web.client_ip"
AXES_VERBOSE = False
# Lockouts are listed and lifted in the admin's "Login lockouts" (axes' own tables stay empty).
AXES_ENABLE_ADMIN = False

# --- REST API ---------------------------------------------------------------------------------
# Requests per client before the API answers 429 ("100/minute", "100000/hour", …).
# Anonymous calls can only fail authentication or read nothing; a user's sustained rate of one
# call a second leaves room for integrations that poll and page.
SRM_API_THROTTLE_ANON = env.str("SRM_API_THROTTLE_ANON", default="60/minute")
SRM_API_THROTTLE_USER = env.str("SRM_API_THROTTLE_USER", default="3600/hour")
# API tokens (governance/tokens.py): valid this many days unless their creator chooses fewer
# (or more, up to the maximum).
SRM_API_TOKEN_DAYS = env.int("SRM_API_TOKEN_DAYS", default=90)
SRM_API_TOKEN_MAX_DAYS = env.int("SRM_API_TOKEN_MAX_DAYS", default=365)
REST_FRAMEWORK = {
    # Token first: an unauthenticated call then gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "kit.api.Pagination",
    "DEFAULT_THROTTLE_CLASSES": ["kit.api.AnonThrottle", "kit.api.UserThrottle"],
    "EXCEPTION_HANDLER": "kit.api.exception_handler",
}
# The API's schema (/api/schema/) and interactive docs (/api/docs/) need a signed-in person or
# a token; SRM_API_DOCS_PUBLIC=1 opens them to anyone (they list every endpoint and field).
SRM_API_DOCS_PUBLIC = env.bool("SRM_API_DOCS_PUBLIC", default=False)
SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["kit.api.ApiDocsPermission"],
    "TITLE": "SRM API",
    "DESCRIPTION": (
        "Governed service request management: submit and follow service requests, act on "
        "approval and work steps, read delay risks and outcome KPIs. Every error has the body "
        "described by the `Error` schema. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RequestStateEnum": "requests_app.choices.RequestState",
        "RequestSourceEnum": "requests_app.choices.Source",
        "FieldTypeEnum": "requests_app.choices.FieldType",
        "StepStateEnum": "approvals.choices.StepState",
        "StepKindEnum": "approvals.choices.StepKind",
        "MembershipRoleEnum": "governance.choices.MembershipRole",
        "KPIDirectionEnum": "kpis.choices.Direction",
        "KPIMeasureEnum": "kpis.choices.Measure",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kit.api.document_errors",
    ],
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds before a mail server that does not answer fails the send (it is retried later).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="srm@localhost")

# --- Security ---------------------------------------------------------------------------------
# HTTPS-only cookies and redirects are on whenever DEBUG is off; HTTPS=0 turns them off for
# a deployment that terminates TLS nowhere (not recommended).
HTTPS = env.bool("HTTPS", default=not DEBUG)
# X-Forwarded-Proto is believed only from a reverse proxy named in TRUSTED_PROXIES, which sets
# it itself (the nginx of docker-compose.yml); from any other address it is dropped
# (kit.web.ForwardedProtoMiddleware), and with no proxy named it is never read: otherwise any
# client could claim HTTPS over plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_SSL_REDIRECT = HTTPS
# Probes and scrapers on the internal network speak plain HTTP to gunicorn (the container's
# health check, a load balancer, Prometheus): the health endpoints and /metrics answer them
# instead of redirecting to HTTPS. They serve no user's data (metrics need their token).
SECURE_REDIRECT_EXEMPT = [r"^healthz(/|$)", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy on every response (django-csp; SECURITY.md "Headers"): scripts, styles,
# images and fonts from this site only — no inline script or style unless it carries the
# response's nonce (`request.csp_nonce`; none of ours needs one) or is the error pages'
# style, allowed by its hash, no eval, no plug-ins, no
# framing, forms post only here. Downloads of attachments set their own stricter policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # The error pages carry their one small style block inline (they need no static
        # files, no database): it is allowed by its hash (tests/security/test_headers.py).
        "style-src": [SELF, NONCE, "'sha256-uw4Yb39BuAqC27D33T0hhj4MeIVODq9RemQt3AlJ8AE='"],
        # data: for the inline SVG favicon and Pico's inline SVG icons.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if OIDC_ISSUER:
    # Sign-out posts here, then goes on to the provider's end-session page.
    from urllib.parse import urlsplit

    _issuer = urlsplit(OIDC_ISSUER)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_issuer.scheme}://{_issuer.netloc}")
SESSION_COOKIE_HTTPONLY = True
# Database sessions whose row names the signed-in person: one statement loads both.
SESSION_ENGINE = "governance.identity.sessions"
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())

# --- Operations (docs/operations.md) ---------------------------------------------------------
# How requests hand work to Celery (operations/outbox.py): "thread" publishes after commit
# off the request's thread; "inline" in the committing thread; "beat" only by the dispatcher.
SRM_OUTBOX_PUBLISH = env.str("SRM_OUTBOX_PUBLISH", default="thread")
SRM_OUTBOX_BACKOFF_SECONDS = env.float("SRM_OUTBOX_BACKOFF_SECONDS", default=15)
# One dispatcher run publishes until the outbox is empty or this many seconds passed.
SRM_OUTBOX_DISPATCH_BUDGET = env.float("SRM_OUTBOX_DISPATCH_BUDGET", default=40)
# Each check of /healthz/ready and /healthz/jobs gets this long.
SRM_HEALTH_TIMEOUT = env.float("SRM_HEALTH_TIMEOUT", default=3.0)
# /healthz/jobs: the worker's heartbeat (every minute) and the oldest outbox task may be this old.
SRM_HEALTH_WORKER_MAX_AGE = env.int("SRM_HEALTH_WORKER_MAX_AGE", default=180)
SRM_HEALTH_OUTBOX_MAX_AGE = env.int("SRM_HEALTH_OUTBOX_MAX_AGE", default=120)
# /healthz/jobs: the delay scan runs every minute; its last run may be this old.
SRM_HEALTH_DELAY_SCAN_MAX_AGE = env.int("SRM_HEALTH_DELAY_SCAN_MAX_AGE", default=300)
# `manage.py healthcheck --beat`: beat ticks at least every SRM_OUTBOX_DISPATCH_SECONDS.
SRM_HEALTH_BEAT_MAX_AGE = env.int("SRM_HEALTH_BEAT_MAX_AGE", default=60)
# /metrics answers only `Authorization: Bearer <token>`; empty: /metrics answers 404.
SRM_METRICS_TOKEN = env.str("SRM_METRICS_TOKEN", default="")

# Backups (manage.py backup / restore): the folder of pg_dump and pg_restore (empty: PATH);
# they must be at least the server's major version.
SRM_PG_BINDIR = env.str("SRM_PG_BINDIR", default="")

# Logs: "json" (production) or "text"; UTC timestamps, level, logger, request id on each line.
SRM_LOG_FORMAT = env.str("SRM_LOG_FORMAT", default="text")
LOGGING = logging_config(fmt=SRM_LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"),
                         access_level=env.str("SRM_ACCESS_LOG_LEVEL", default="INFO"))

# Error tracking: with SENTRY_DSN set, unhandled errors of web requests and tasks go to Sentry
# (or a compatible service), tagged with the request id the logs carry. Unset: not loaded.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    error_tracking_init(dsn=SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default=""),
                        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))
