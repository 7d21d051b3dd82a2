"""Talking to the Celery broker with bounded waits.

The broker's socket and connect timeouts are settings (``SRM_BROKER_TIMEOUT``, in
``CELERY_BROKER_TRANSPORT_OPTIONS``); publishing here never retries beyond
``CELERY_TASK_PUBLISH_RETRY_POLICY``. A broker that is down, or up but frozen, costs at most
those seconds and raises ``BrokerUnavailable``, so the caller can leave the work in the
outbox for later.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from amqp.exceptions import ChannelError
from celery import current_app
from django.conf import settings
from kombu.exceptions import KombuError, OperationalError

from operations.context import TASK_HEADER


class BrokerUnavailable(Exception):
    sent = 0  # publish(): how many messages the broker accepted before it failed


_BROKER_ERRORS = (OSError, KombuError, OperationalError, TimeoutError)


def publish(messages: Iterable[tuple[str, list, dict, str]]) -> int:
    """Publish ``(task, args, kwargs, request_id)`` messages over one connection. Returns how
    many were accepted; raises ``BrokerUnavailable`` at the first that was not (those
    before it were published)."""
    app = current_app
    sent = 0
    try:
        with app.producer_or_acquire() as producer:
            for task, args, kwargs, request_id in messages:
                app.send_task(task, args=args, kwargs=kwargs, producer=producer,
                              headers={TASK_HEADER: request_id} if request_id else None,
                              retry=True,
                              retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY)
                sent += 1
    except _BROKER_ERRORS as exc:
        error = BrokerUnavailable(f"{type(exc).__name__}: {exc}"[:500])
        error.sent = sent
        raise error from exc
    return sent


def ping() -> float:
    """Seconds a round trip to the broker took; raises ``BrokerUnavailable``."""
    started = time.monotonic()
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                         timeout=settings.SRM_BROKER_TIMEOUT)
            client = getattr(connection.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()  # Redis: a frozen server accepts the connection, not the PING
    except _BROKER_ERRORS as exc:
        raise BrokerUnavailable(f"{type(exc).__name__}: {exc}"[:500]) from exc
    return time.monotonic() - started


def queue_length(queue: str | None = None) -> int | None:
    """Messages waiting in the default queue (None where the broker cannot say). A queue no
    worker has declared yet holds nothing."""
    queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=settings.SRM_BROKER_TIMEOUT)
            channel = connection.default_channel
            try:
                return channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError as exc:
                if str(getattr(exc, "reply_code", "")) == "404":
                    return 0
                raise
    except Exception:  # noqa: BLE001 - a gauge must not fail the page that reads it
        return None
