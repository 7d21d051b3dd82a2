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
from governance.errors import Conflict, NotAllowed
from governance.limits import checked_text
from governance.models import User
from governance.selectors import is_agent_of
from governance.services.audit import audit_record


def _require_agent(actor: User, step: Step, *, doing: str) -> None:
    if not is_agent_of(actor, step.accountable_department_id):
        raise NotAllowed(
            f"Only agents of {step.accountable_department} can {doing} “{step.name}”.",
            code="not_agent",
        )


@transaction.atomic
def step_complete(*, actor: User, step: Step, note: str = "", at: datetime | None = None) -> Step:
    """Mark an execution step done. A step a colleague has taken is theirs to finish: take
    it over first (``step_take_over``), so the hand-over is on the record."""
    at = at or timezone.now()
    note = checked_text(note, limit=limits.DECISION_COMMENT, field="note", what="note")
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.EXECUTION)
    _require_agent(actor, step, doing="complete")
    if step.assignee_id not in (None, actor.pk):
        raise Conflict(
            f"{step.assignee} has taken “{step.name}” on {step.request.reference}. Take it over "
            "first if you are finishing it for them.",
            code="claimed_by_other",
        )
    _close_step(step, state=StepState.DONE, actor=actor, acted_for=None, comment=note, at=at)
    request_advance(request=step.request, actor=actor, at=at)
    return step


@transaction.atomic
def step_claim(*, actor: User, step: Step, at: datetime | None = None) -> Step:
    """Assign an active execution step nobody has taken to the agent who takes it on."""
    at = at or timezone.now()
    step = _lock(step)
    _require_active(step, StepKind.EXECUTION)
    _require_agent(actor, step, doing="take on")
    if step.assignee_id == actor.pk:
        raise Conflict(f"“{step.name}” on {step.request.reference} is already yours.",
                       code="already_yours")
    if step.assignee_id is not None:
        raise Conflict(
            f"{step.assignee} has already taken “{step.name}” on {step.request.reference}. "
            "Take it over if you are finishing it for them.",
            code="claimed_by_other",
        )
    step.assignee = actor
    step.save(update_fields=["assignee"])
    audit_record(
        actor=actor,
        verb=AuditVerb.STEP_CLAIMED,
        target=step,
        correlation=step.request.reference,
        data={"step": step.name, "previous_assignee": None},
        at=at,
    )
    return step


@transaction.atomic
def step_take_over(*, actor: User, step: Step, reason: str = "",
                   at: datetime | None = None) -> Step:
    """Take over an execution step a colleague has taken: the step becomes the actor's, the
    audit trail names both, and the colleague is no longer the one working it."""
    at = at or timezone.now()
    reason = checked_text(reason, limit=limits.DECISION_COMMENT, field="reason", what="reason")
    step = _lock(step)
    _require_active(step, StepKind.EXECUTION)
    _require_agent(actor, step, doing="take over")
    if step.assignee_id is None:
        raise Conflict(f"Nobody has taken “{step.name}” on {step.request.reference}: take it "
                       "on instead.", code="not_claimed")
    if step.assignee_id == actor.pk:
        raise Conflict(f"“{step.name}” on {step.request.reference} is already yours.",
                       code="already_yours")
    previous = step.assignee
    step.assignee = actor
    step.save(update_fields=["assignee"])
    data = {"step": step.name, "previous_assignee": previous.username}
    if reason:
        data["reason"] = reason
    audit_record(
        actor=actor,
        verb=AuditVerb.STEP_TAKEN_OVER,
        target=step,
        correlation=step.request.reference,
        data=data,
        at=at,
    )
    return step
