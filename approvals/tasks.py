"""Celery tasks of the lifecycle: thin wrappers around services, safe to run twice
(the policy: kit.tasks)."""

from approvals.services import holds_process_due
from kit.tasks import task


@task(soft_time_limit=240, time_limit=300)
def process_holds() -> dict[str, int]:
    """Remind requesters of unanswered questions; cancel requests past the limit."""
    return holds_process_due()
