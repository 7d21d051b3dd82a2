"""Celery tasks: thin wrappers that call a service. Scheduled in ``CELERY_BEAT_SCHEDULE``
(srm/settings.py), the one place the periodic jobs are declared.

The scan, delivery, digests and figures are safe to run twice (the scan under its lock and
constraint, delivery under row locks and the sent marker, digests under their unique keys,
figures recomputed whole), so they acknowledge late: a worker that dies mid-task gets the
task redelivered instead of losing it.

Until release 1.1 each task also answers to the name it had when it lived in ``governance``
(``governance.tasks.*``, ``governance.tasks_plans.*``), so messages queued before the
upgrade still run; see ``LEGACY_NAMES``.
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

# New name -> the name the task had before it moved (kept for one release).
LEGACY_NAMES: dict[str, str] = {}


def task(*, legacy: str, **options):
    """``shared_task`` named ``accountability.tasks.<function>``, also registered under its
    previous name ``legacy`` with the same options."""

    def register(fn):
        shared_task(name=legacy, **options)(fn)
        name = f"{__name__}.{fn.__name__}"
        LEGACY_NAMES[name] = legacy
        return shared_task(name=name, **options)(fn)

    return register


@task(legacy="governance.tasks.flag_delays", acks_late=True, soft_time_limit=50,
      time_limit=55, **_RETRY)
def flag_delays() -> str:
    from accountability.services.risks import flag_delays as scan

    return str(scan())


@task(legacy="governance.tasks.deliver_notifications", acks_late=True, soft_time_limit=120,
      time_limit=150, **_RETRY)
def deliver_notifications(ids: list[int] | None = None) -> dict:
    """Deliver these notification rows now, or (no ids: the beat sweep) every pending one
    that is due."""
    from accountability.services.notifications import notifications_deliver

    return vars(notifications_deliver(ids=ids))


@task(legacy="governance.tasks.send_digests", acks_late=True, soft_time_limit=240,
      time_limit=300, **_RETRY)
def send_digests() -> dict:
    from accountability.services.digests import digests_send

    return vars(digests_send())


@task(legacy="governance.tasks.refresh_figures", acks_late=True, soft_time_limit=240,
      time_limit=280, **_RETRY)
def refresh_figures() -> dict:
    """Recompute the accountability pages' stored figures (docs/accountability.md)."""
    from accountability.figures import refresh_figures as refresh

    return refresh()


@task(legacy="governance.tasks.refresh_open_work", acks_late=True, soft_time_limit=50,
      time_limit=55, **_RETRY)
def refresh_open_work() -> int:
    """Recount the board's open work (open and overdue steps, open risks, exposure)."""
    from accountability.figures import refresh_open_work as refresh

    return refresh()


@task(legacy="governance.tasks_plans.remind_overdue_retirements", soft_time_limit=120,
      time_limit=180, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def remind_overdue_retirements() -> int:
    """Daily: tell each owning head about their overdue retirements (once a day at most)."""
    from accountability.services.plans import workflows_remind_overdue

    return workflows_remind_overdue()


# A 100,000-row file takes minutes; the limits stay under the broker's visibility timeout.
@task(legacy="governance.tasks_plans.run_legacy_import", soft_time_limit=3000, time_limit=3300)
def run_legacy_import(job_id: int) -> None:
    from accountability.services.legacy_import import import_job_run

    import_job_run(job_id=job_id)
