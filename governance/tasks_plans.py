"""Celery tasks for change plans: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from governance.services.legacy_import import import_job_run
from governance.services.plans import workflows_remind_overdue


@shared_task(soft_time_limit=120, time_limit=180, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=3)
def remind_overdue_retirements() -> int:
    """Daily: tell each owning head about their overdue retirements (once a day at most)."""
    return workflows_remind_overdue()


# A 100,000-row file takes minutes; the limits stay under the broker's visibility timeout.
@shared_task(soft_time_limit=3000, time_limit=3300)
def run_legacy_import(job_id: int) -> None:
    import_job_run(job_id=job_id)
