"""The task outbox: how a change asks for background work without waiting on the broker.

``enqueue(task, args=…)`` writes an ``OutboxTask`` row in the caller's transaction; nothing
talks to the broker inside the request. After the commit the row is published by one of:

- the publisher thread of this process (``SRM_OUTBOX_PUBLISH=thread``, the default): it
  publishes moments later, off the request's thread, with the broker's short timeouts. When
  the broker fails, the thread stops trying for ``SRM_OUTBOX_BACKOFF_SECONDS`` and leaves the
  rows to
- the ``dispatch-outbox`` beat job (every ``SRM_OUTBOX_DISPATCH_SECONDS``), which publishes
  every due row, oldest first, in batches, until none is left or its time budget is spent.

A row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and deleted in the transaction that
published it, so the thread and the beat job never publish one row twice at the same time. A
publish that the broker accepted just before a crash may be published again: every SRM task
is safe to run twice (``kit.tasks``). ``SRM_OUTBOX_PUBLISH=inline`` publishes right after the
commit in the committing thread (the tests); ``beat`` leaves everything to the beat job.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from operations import broker, context
from operations.models import OutboxTask

logger = logging.getLogger(__name__)

BATCH = 200


def enqueue(task: str, *, args: list | tuple = (), kwargs: dict | None = None) -> OutboxTask:
    """Queue ``task`` (by its Celery name) to run once the current transaction commits."""
    row = OutboxTask.objects.create(task=task, args=list(args), kwargs=kwargs or {},
                                    request_id=context.request_id.get())
    enqueued(row.pk)
    return row


def enqueued(pk: int) -> None:
    """Publish the row ``pk`` once the current transaction commits: for a writer that
    inserted it itself, in the statement of its own rows (``notifications_create``), with
    ``request_id`` from ``operations.context``."""
    mode = settings.SRM_OUTBOX_PUBLISH
    if mode == "inline":
        transaction.on_commit(lambda: _publish_quietly([pk]), robust=True)
    elif mode == "thread":
        transaction.on_commit(lambda: _publisher.kick(pk), robust=True)


@dataclass
class DispatchResult:
    published: int = 0
    failed: int = 0
    error: str = ""
    seconds: float = 0.0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 300))


def outbox_dispatch(*, ids: list[int] | None = None, budget_seconds: float | None = None,
                    batch: int = BATCH) -> DispatchResult:
    """Publish due rows (only ``ids`` when given), oldest first, until none is left, the
    broker fails, or ``budget_seconds`` have passed."""
    started = time.monotonic()
    budget = settings.SRM_OUTBOX_DISPATCH_BUDGET if budget_seconds is None else budget_seconds
    result = DispatchResult()
    while True:
        with transaction.atomic():
            due = OutboxTask.objects.select_for_update(skip_locked=True).due()
            if ids is not None:
                due = due.filter(pk__in=ids)
            rows = list(due.order_by("available_at", "pk")[:batch])
            if not rows:
                break
            try:
                broker.publish((r.task, r.args, r.kwargs, r.request_id) for r in rows)
            except broker.BrokerUnavailable as exc:
                # Those before the failure were published; they go, the rest wait.
                sent = _accepted(rows, exc)
                result.error = str(exc)
            else:
                sent = rows
            OutboxTask.objects.filter(pk__in=[r.pk for r in sent]).delete()
            result.published += len(sent)
            if result.error:
                left = rows[len(sent):]
                now = timezone.now()
                for row in left:
                    row.attempts += 1
                    row.last_error = result.error
                    row.available_at = now + _backoff(row.attempts)
                OutboxTask.objects.bulk_update(left, ["attempts", "last_error", "available_at"])
                result.failed += len(left)
                break
        if ids is not None or time.monotonic() - started >= budget:
            break
    result.seconds = time.monotonic() - started
    if result.error:
        logger.warning("Outbox: the broker refused (%s); %d task(s) wait for the next run.",
                       result.error, result.failed)
    return result


def _accepted(rows: list[OutboxTask], exc: broker.BrokerUnavailable) -> list[OutboxTask]:
    # broker.publish counts as it goes; it tells how many on the exception's context.
    return rows[: getattr(exc, "sent", 0)]


def _publish_quietly(ids: list[int]) -> None:
    try:
        outbox_dispatch(ids=ids)
    except Exception:  # noqa: BLE001 - the beat job publishes whatever this could not
        logger.warning("Outbox: could not publish %s now; the dispatcher will.", ids,
                       exc_info=True)


class _Publisher:
    """One daemon thread per process that publishes freshly committed rows."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._resting_until = 0.0

    def kick(self, pk: int) -> None:
        if time.monotonic() < self._resting_until:
            return  # the broker failed a moment ago: the beat job will publish it
        self._queue.put(pk)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="srm-outbox",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            ids = [self._queue.get()]
            while len(ids) < BATCH:
                try:
                    ids.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if time.monotonic() < self._resting_until:
                continue
            close_old_connections()
            try:
                result = outbox_dispatch(ids=ids)
            except Exception:  # noqa: BLE001 - never let the thread die on a bad moment
                logger.warning("Outbox: publishing failed; the dispatcher will retry.",
                               exc_info=True)
                result = DispatchResult(error="exception")
            finally:
                connections.close_all()
            if result.error:
                self._resting_until = time.monotonic() + settings.SRM_OUTBOX_BACKOFF_SECONDS


_publisher = _Publisher()


def backlog() -> tuple[int, float | None]:
    """Rows waiting, and the age in seconds of the oldest (None when empty)."""
    oldest = OutboxTask.objects.order_by("created_at").values_list("created_at", flat=True)
    count = OutboxTask.objects.count()
    first = oldest.first()
    return count, (timezone.now() - first).total_seconds() if first else None
