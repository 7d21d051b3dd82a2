"""Settings for the test suite: the environment's settings with test-speed tweaks."""

from .settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
# Tasks enqueued on commit go nowhere unless a test chooses a real broker (the Redis tests
# start their own worker with its own environment).
CELERY_BROKER_URL = env.str("SRM_TEST_CELERY_BROKER_URL", default="memory://")
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# Tasks are published right after the commit, in the test's own thread (deterministic).
SRM_OUTBOX_PUBLISH = "inline"

# Attachments go to a throw-away folder per test run, never into var/.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

_ATTACHMENTS_DIR = tempfile.mkdtemp(prefix="srm-test-attachments-")
atexit.register(shutil.rmtree, _ATTACHMENTS_DIR, ignore_errors=True)
STORAGES["attachments"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": _ATTACHMENTS_DIR},
}

# The accountability pages recompute their stored figures on every view, so a test that
# changes the lifecycle sees it at once; the stored path's own tests set a longer age.
SRM_FIGURES_MAX_AGE = 0
SRM_FIGURES_OPEN_MAX_AGE = 0

# Every page and endpoint must read what it serves through the models' visibility rules.
SRM_CHECK_RULES = True

# whitenoise looks for STATIC_ROOT when the middleware starts; tests never collect into it.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
