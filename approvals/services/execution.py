"""Execution steps: an agent takes one on and completes it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from approvals.choices import StepKind, StepState
from approvals.models import Step
from approvals.services.flow import request_advance
from approvals.services.steps import _close_step, _lock, _require_active
from governance import limits
from governance.choices import AuditVerb
from governance.errors import NotAllowed
from governance.limits import checked_text
from governance.models import User
from governance.selectors import is_agent_of
from governance.services.audit import audit_record


@transaction.atomic
def step_complete(*, actor: User, step: Step, note: str = "", at: datetime | None = None) -> Step:
    at = at or timezone.now()
    note = checked_text(note, limit=limits.DECISION_COMMENT, field="note", what="note")
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.EXECUTION)
    if not is_agent_of(actor, step.accountable_department_id):
        raise NotAllowed(
            f"Only agents of {step.accountable_department} can complete “{step.name}”.",
            code="not_agent",
        )
    _close_step(step, state=StepState.DONE, actor=actor, acted_for=None, comment=note, at=at)
    request_advance(request=step.request, actor=actor, at=at)
    return step


@transaction.atomic
def step_claim(*, actor: User, step: Step, at: datetime | None = None) -> Step:
    """Assign an active execution step to the agent who takes it on."""
    at = at or timezone.now()
    step = _lock(step)
    _require_active(step, StepKind.EXECUTION)
    if not is_agent_of(actor, step.accountable_department_id):
        raise NotAllowed(
            f"Only agents of {step.accountable_department} can take on “{step.name}”.",
            code="not_agent",
        )
    if step.assignee_id == actor.pk:
        return step
    previous = step.assignee
    step.assignee = actor
    step.save(update_fields=["assignee"])
    audit_record(
        actor=actor,
        verb=AuditVerb.STEP_CLAIMED,
        target=step,
        correlation=step.request.reference,
        data={"step": step.name, "previous_assignee": previous.username if previous else None},
        at=at,
    )
    return step
