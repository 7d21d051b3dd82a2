"""Log lines an operator can search: JSON in production (``SRM_LOG_FORMAT=json``), readable
lines in development; every line with its UTC timestamp, level, logger, the request id, the
user id and the request reference where there is one (``operations.context``)."""

from __future__ import annotations

import logging
import time

from pythonjsonlogger.json import JsonFormatter

from operations import context


class ContextFilter(logging.Filter):
    """Adds the request's context to every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        record.user_id = context.user_id.get()
        record.reference = context.reference.get()
        return True


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
