"""SRM's one policy for Celery tasks. Every task is a thin wrapper around a service and is
safe to run twice (the services lock, upsert or check a marker), so every task:

- acknowledges late, and rejects (requeues) a task whose worker process died (killed,
  out of memory): a worker that dies mid-task gets the task redelivered, not lost;
- retries a transient database failure (connection lost, server restarting, serialization)
  with exponential backoff and jitter, at most ``MAX_RETRIES`` times; any other error is a
  bug and fails at once, into the log;
- has a soft and a hard time limit of its own (given where the task is declared).

Periodic runs also expire (``options.expires`` in ``CELERY_BEAT_SCHEDULE``): a run that
waited longer than its period is dropped, the next one does the same work.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

MAX_RETRIES = 5
POLICY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


def task(*, soft_time_limit: int, time_limit: int, **options):
    """``shared_task`` with the policy above; ``options`` may add Celery task options (a
    ``name``, an ``expires`` for on-demand runs), not override the policy."""
    clash = POLICY.keys() & options.keys()
    if clash:
        raise TypeError(f"The task policy is one for all; do not override {sorted(clash)}")
    return shared_task(soft_time_limit=soft_time_limit, time_limit=time_limit, **POLICY,
                       **options)
