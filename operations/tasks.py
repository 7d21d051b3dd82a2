"""The operations jobs (scheduled in ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from kit.tasks import task
from operations import heartbeats, outbox


@task(soft_time_limit=50, time_limit=55)
def dispatch_outbox() -> dict:
    """Publish the outbox's due tasks until none is left (or the time budget is spent)."""
    result = outbox.outbox_dispatch()
    heartbeats.mark("dispatch-outbox", seconds=result.seconds, detail=vars(result))
    return vars(result)


@task(soft_time_limit=10, time_limit=15)
def heartbeat() -> str:
    """Proves that beat schedules, the broker carries and a worker runs (``/healthz/jobs``)."""
    heartbeats.mark("worker")
    return "ok"
