"""Celery tasks: thin wrappers that call a service. Scheduled in ``CELERY_BEAT_SCHEDULE``
(srm/settings.py), the one place the periodic jobs are declared.

All three are safe to run twice (the scan under its lock and constraint, delivery under row
locks and the sent marker, digests under their unique keys), so they acknowledge late: a
worker that dies mid-task gets the task redelivered instead of losing it.
"""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, InterfaceError

_RETRY = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55, **_RETRY)
def flag_delays() -> str:
    from governance.services.risks import flag_delays as scan

    return str(scan())


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150, **_RETRY)
def deliver_notifications(ids: list[int] | None = None) -> dict:
    """Deliver these notification rows now, or (no ids: the beat sweep) every pending one
    that is due."""
    from governance.services.notifications import notifications_deliver

    return vars(notifications_deliver(ids=ids))


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300, **_RETRY)
def send_digests() -> dict:
    from governance.services.digests import digests_send

    return vars(digests_send())


@shared_task(acks_late=True, soft_time_limit=240, time_limit=280, **_RETRY)
def refresh_figures() -> dict:
    """Recompute the accountability pages' stored figures (docs/accountability.md)."""
    from governance.accountability.figures import refresh_figures as refresh

    return refresh()


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55, **_RETRY)
def refresh_open_work() -> int:
    """Recount the board's open work (open and overdue steps, open risks, exposure)."""
    from governance.accountability.figures import refresh_open_work as refresh

    return refresh()
