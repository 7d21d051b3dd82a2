"""Log lines an operator can search: JSON in production (``SRM_LOG_FORMAT=json``), readable
lines in development; every line with its UTC timestamp, level, logger, the request id, the
user id and the request reference where there is one (``operations.context``).

``logging_config()`` is the one configuration: Django's ``LOGGING`` (so the web workers and
``manage.py``), gunicorn's own lines (``gunicorn.conf.py``) and the Celery worker and beat
(``srm.celery`` applies it instead of Celery's own set-up) all use it.
"""

from __future__ import annotations

import logging
import time

from django.utils.functional import SimpleLazyObject, empty
from pythonjsonlogger.json import JsonFormatter

from operations import context


class ContextFilter(logging.Filter):
    """Adds the request's context to every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        record.user_id = context.user_id.get() or _authenticated_id(context.request.get())
        record.reference = context.reference.get()
        return True


def _authenticated_id(request) -> int | None:
    """The user of the current request once something has authenticated it (a session's user
    read by a view, an API token checked by DRF), without making a log line authenticate:
    the lazy user of a session that nothing has read yet stays unread."""
    user = getattr(request, "__dict__", {}).get("user") if request is not None else None
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class TextFormatter(logging.Formatter):
    converter = time.gmtime  # UTC, like gunicorn and Celery: one clock in every log

    def __init__(self) -> None:
        super().__init__("%(asctime)sZ %(levelname)s %(name)s [%(request_id)s] %(message)s",
                         datefmt="%Y-%m-%dT%H:%M:%S")


class JSONFormatter(JsonFormatter):
    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s "
            "%(reference)s",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z", timestamp=False)


def logging_config(*, fmt: str = "text", level: str = "INFO", access_level: str = "INFO",
                   extra_loggers: dict | None = None) -> dict:
    """The ``dictConfig`` of every SRM process: one handler on standard output with the
    request's context, in ``fmt`` ("text" or "json")."""
    if fmt not in ("text", "json"):
        raise ValueError(f"SRM_LOG_FORMAT is 'text' or 'json', not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "operations.logs.ContextFilter"}},
        "formatters": {
            "text": {"()": "operations.logs.TextFormatter"},
            "json": {"()": "operations.logs.JSONFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                                 "formatter": fmt}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The access line per request (status, duration, request id, user).
            "srm.access": {"level": access_level},
            **(extra_loggers or {}),
        },
    }
