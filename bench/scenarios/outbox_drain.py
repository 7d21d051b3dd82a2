"""The outboxes draining a backlog: N pending notices (default 100,000; 10,000 with --quick;
``BENCH_OUTBOX_N``) delivered by the notification sweep, and N queued tasks published by the
task outbox's dispatcher to a Redis of the benchmark's own. Time and rate of each, against a
floor measured in the same run: one set-based UPDATE of the same rows (notices), and the same
messages published straight to the broker without the outbox (tasks).

E-mail goes to Django's dummy backend: this measures SRM's own cost per notice (lock, render,
mark sent); a real mail server adds its own. The notices are the bench's own rows, deleted
afterwards; rows pending in the data set before are delivered too and counted.
"""

from __future__ import annotations

import os
import statistics
import time

from celery import current_app
from django.conf import settings
from django.utils import timezone

from accountability.models import EmailStatus, Notification, NotificationKind
from accountability.services.notifications import notifications_deliver
from bench.context import peak_mb
from bench.redis_server import RedisServer
from governance.models import User
from operations import broker
from operations.models import OutboxTask
from operations.outbox import outbox_dispatch

SIZED = False
TASK = "operations.tasks.heartbeat"
SUBJECT = "bench: outbox drain"


def _count(ctx) -> int:
    return int(os.environ.get("BENCH_OUTBOX_N") or (10_000 if ctx.quick else 100_000))


def run(ctx) -> list[dict]:
    n = _count(ctx)
    return [_notices(n), _tasks(n, ctx.quick)]


# --- The notification outbox (e-mails) -------------------------------------------------------
def _pending_notices(n: int) -> None:
    people = list(User.objects.exclude(email="").order_by("pk").values_list("pk", flat=True)[:500])
    now = timezone.now()
    batch = [Notification(recipient_id=people[i % len(people)], kind=NotificationKind.RISK_RAISED,
                          subject=f"{SUBJECT} {i}", body="A step is overdue.", link="/",
                          email_status=EmailStatus.PENDING, created_at=now, next_attempt_at=now)
             for i in range(n)]
    Notification.objects.bulk_create(batch, batch_size=5000)


def _notices(n: int) -> dict:
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    before = Notification.objects.due_for_email().count()

    # The floor: touching every row once, set-based (what no per-notice delivery can beat).
    _pending_notices(n)
    started = time.perf_counter()
    Notification.objects.filter(subject__startswith=SUBJECT).update(
        email_status=EmailStatus.SENT, email_sent_at=timezone.now())
    floor = time.perf_counter() - started
    Notification.objects.filter(subject__startswith=SUBJECT).delete()

    _pending_notices(n)
    sweeps, sent, seconds = [], 0, 0.0
    try:
        while Notification.objects.due_for_email().exists():
            started = time.perf_counter()
            result = notifications_deliver()  # one beat sweep (at most SWEEP_SECONDS)
            sweeps.append(time.perf_counter() - started)
            sent += result.sent
            if not result.sent and not result.failed:
                break
        seconds = sum(sweeps)
        delivered_ours = Notification.objects.filter(subject__startswith=SUBJECT,
                                                     email_status=EmailStatus.SENT).count()
    finally:
        Notification.objects.filter(subject__startswith=SUBJECT).delete()
    return {
        "scenario": "outbox.notices_drain", "size": n,
        "median_ms": round(statistics.median(sweeps) * 1000, 1) if sweeps else None,
        "p95_ms": None, "rps": round(sent / seconds, 1) if seconds else None,
        "peak_mb": round(peak_mb(), 1),
        "baseline": "one UPDATE of the same rows", "baseline_median_ms": round(floor * 1000, 1),
        "ratio": round(seconds / floor, 1) if floor else None,
        "note": (f"{sent:,} notices e-mailed in {seconds:.1f} s = {sent / seconds:,.0f}/s "
                 f"({len(sweeps)} sweep(s) of at most 100 s; median ms is per sweep); "
                 f"{delivered_ours:,}/{n:,} of ours sent, {before:,} pending before"),
        "seconds": round(seconds, 1), "sweeps": len(sweeps),
    }


# --- The task outbox (Celery messages) -------------------------------------------------------
def _use_broker(url: str) -> None:
    current_app.conf.broker_url = url
    current_app.conf.broker_transport_options = {
        "visibility_timeout": 3600, "socket_timeout": settings.SRM_BROKER_TIMEOUT,
        "socket_connect_timeout": settings.SRM_BROKER_TIMEOUT}


def _tasks(n: int, quick: bool) -> dict:
    with RedisServer() as redis:
        _use_broker(redis.url)
        # The floor: the same messages straight to the broker, one connection, no database.
        started = time.perf_counter()
        broker.publish((TASK, [], {}, "") for _ in range(n))
        floor = time.perf_counter() - started
        assert broker.queue_length() == n, "the broker did not take every message"
        with current_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)

        OutboxTask.objects.all().delete()
        now = timezone.now()
        OutboxTask.objects.bulk_create(
            [OutboxTask(task=TASK, args=[], kwargs={}, created_at=now, available_at=now)
             for _ in range(n)], batch_size=5000)
        runs = []
        while OutboxTask.objects.exists():
            started = time.perf_counter()
            result = outbox_dispatch()  # one beat run (at most SRM_OUTBOX_DISPATCH_BUDGET)
            runs.append(time.perf_counter() - started)
            if result.error or not result.published:
                break
        seconds = sum(runs)
        published = broker.queue_length()
        left = OutboxTask.objects.count()
        OutboxTask.objects.all().delete()
    return {
        "scenario": "outbox.tasks_drain", "size": n,
        "median_ms": round(statistics.median(runs) * 1000, 1) if runs else None,
        "p95_ms": None, "rps": round(n / seconds, 1) if seconds else None,
        "peak_mb": round(peak_mb(), 1),
        "baseline": "same messages straight to Redis", "baseline_median_ms": round(floor * 1000, 1),
        "ratio": round(seconds / floor, 1) if floor else None,
        "note": (f"{published:,} tasks published in {seconds:.1f} s = {n / seconds:,.0f}/s "
                 f"({len(runs)} dispatcher run(s) of at most "
                 f"{settings.SRM_OUTBOX_DISPATCH_BUDGET:.0f} s; median ms is per run); "
                 f"{left} left"),
        "seconds": round(seconds, 1), "runs": len(runs),
    }
