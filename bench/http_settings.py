"""The server's settings for the HTTP benchmark: production's (``DEBUG=0``), except that
static files are referenced unhashed, so no ``collectstatic`` run (and no manifest) is
needed first. Rendering cost is the same; whitenoise still serves the files."""

from srm.settings import *  # noqa: F403

STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The load comes from a handful of users at thousands of calls a minute: measure the server,
# not the per-user throttle.
SRM_API_THROTTLE_USER = env.str("SRM_API_THROTTLE_USER", default="1000000/hour")  # noqa: F405
