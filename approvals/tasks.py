"""Celery tasks of the lifecycle: thin wrappers around services, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from approvals.services_holds import holds_process_due


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
    soft_time_limit=240, time_limit=300,
)
def process_holds() -> dict[str, int]:
    """Remind requesters of unanswered questions; cancel requests past the limit."""
    return holds_process_due()
