"""Health checks, each bounded in time.

- ``live``: the process answers (no dependency is touched).
- ``ready``: the database, the broker, the cache and the migrations; each check runs in its
  own thread and is given ``SRM_HEALTH_TIMEOUT`` seconds, so a frozen dependency makes the
  answer "503, broker: timeout" instead of a hung probe.
- ``jobs``: for the operator: the worker's heartbeat, the outbox backlog, and what the apps
  above register (``register_job_check``: stuck imports, the last delay scan).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from operations import broker, heartbeats, outbox


@dataclass
class Check:
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "seconds": round(self.seconds, 3),
                **self.data}


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check(True)


def _broker() -> Check:
    seconds = broker.ping()
    return Check(True, data={"round_trip": round(seconds, 3)})


def _cache() -> Check:
    key = "srm:health"
    cache.set(key, "ok", 10)
    return Check(cache.get(key) == "ok", "" if cache.get(key) == "ok" else "read back nothing")


_migrated = False


def _migrations() -> Check:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return Check(False, f"{len(plan)} migration(s) not applied")
        _migrated = True  # migrations are never un-applied under a running process
    return Check(True)


READY_CHECKS: dict[str, Callable[[], Check]] = {
    "database": _database,
    "broker": _broker,
    "cache": _cache,
    "migrations": _migrations,
}


def _bounded(checks: dict[str, Callable[[], Check]], timeout: float) -> dict[str, Check]:
    results: dict[str, Check] = {}

    def run(name: str, fn: Callable[[], Check]) -> None:
        started = time.monotonic()
        try:
            outcome = fn()
        except Exception as exc:  # noqa: BLE001 - a failed check is the answer, not an error
            outcome = Check(False, f"{type(exc).__name__}: {exc}"[:300])
        finally:
            connections.close_all()
        outcome.seconds = time.monotonic() - started
        results[name] = outcome

    threads = [threading.Thread(target=run, args=(n, f), daemon=True, name=f"health-{n}")
               for n, f in checks.items()]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for name in checks:
        if name not in results:
            results[name] = Check(False, f"no answer within {timeout:g} s", timeout)
    return dict(sorted(results.items()))


def ready() -> dict[str, Check]:
    return _bounded(READY_CHECKS, settings.SRM_HEALTH_TIMEOUT)


# --- Jobs ------------------------------------------------------------------------------------
JOB_CHECKS: dict[str, Callable[[], Check]] = {}


def register_job_check(name: str, check: Callable[[], Check]) -> None:
    """An app adds what an operator should know about its background work."""
    JOB_CHECKS[name] = check


def _age(at) -> float | None:
    return (timezone.now() - at).total_seconds() if at else None


def _worker() -> Check:
    beat = heartbeats.last().get("worker")
    age = _age(beat.at) if beat else None
    limit = settings.SRM_HEALTH_WORKER_MAX_AGE
    if age is None:
        return Check(False, "no worker heartbeat yet", data={"age": None})
    return Check(age <= limit, "" if age <= limit else f"last heartbeat {age:.0f} s ago",
                 data={"age": round(age, 1), "at": beat.at.isoformat()})


def _outbox() -> Check:
    count, oldest = outbox.backlog()
    limit = settings.SRM_HEALTH_OUTBOX_MAX_AGE
    ok = oldest is None or oldest <= limit
    dispatched = heartbeats.last().get("dispatch-outbox")
    return Check(ok, "" if ok else f"oldest task waits {oldest:.0f} s", data={
        "pending": count, "oldest_age": round(oldest, 1) if oldest is not None else None,
        "last_dispatch": dispatched.at.isoformat() if dispatched else None,
    })


def jobs() -> dict[str, Check]:
    return _bounded({"worker": _worker, "outbox": _outbox, **JOB_CHECKS},
                    settings.SRM_HEALTH_TIMEOUT)


# --- This process (compose health checks: manage.py healthcheck --worker / --beat) ----------
def default_node() -> str:
    """The node name ``celery worker`` takes by default on this host."""
    return f"celery@{socket.gethostname()}"


def worker_ping(node: str) -> Check:
    """The worker ``node`` answers a ping through the broker."""
    def ping() -> Check:
        replies = current_app.control.ping(destination=[node],
                                           timeout=settings.SRM_HEALTH_TIMEOUT * 0.8)
        answered = any(node in reply for reply in replies)
        return Check(answered, "" if answered else f"{node} did not answer")

    return _bounded({"worker": ping}, settings.SRM_HEALTH_TIMEOUT)["worker"]


def beat_alive() -> Check:
    """This host's beat ticked lately (``operations.beat.Scheduler`` touches the file)."""
    path = settings.SRM_BEAT_ALIVE_FILE
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return Check(False, f"beat has not ticked yet ({path} missing)")
    limit = settings.SRM_HEALTH_BEAT_MAX_AGE
    return Check(age <= limit, "" if age <= limit else f"last tick {age:.0f} s ago",
                 data={"age": round(age, 1)})
