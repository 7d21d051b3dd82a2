"""Writes on change plans and the legacy workflows they retire.

Every action locks the plan (or workflow) row, checks its precondition, changes state and
writes one audit event correlated to the plan (``plan:<id>``), in one transaction.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from accountability.choices import PLAN_OPEN_STATES, PlanStatus, WorkflowDecision
from accountability.models import ChangePlan, LegacyWorkflow, NotificationKind
from accountability.selectors_plans import plan_correlation, plan_readiness
from accountability.services.notifications import Draft, notifications_create
from governance.choices import AuditVerb
from governance.errors import Conflict, ErrorCode, NotAllowed, ValidationFailed
from governance.models import User
from governance.services.audit import audit_record
from governance.states import assert_transition

logger = logging.getLogger(__name__)


def _lock_plan(plan: ChangePlan) -> ChangePlan:
    return ChangePlan.objects.select_for_update().get(pk=plan.pk)


def _require_change(actor: User, plan: ChangePlan) -> None:
    if not plan.changeable_by(actor):
        raise NotAllowed(f"Only an ops leader or the sponsor ({plan.sponsor}) can change "
                         f"“{plan}”.", code=ErrorCode.NOT_PLAN_OWNER)


def _move(plan: ChangePlan, *, actor: User, status: str, fields: list[str], verb: AuditVerb,
          data: dict, at: datetime) -> ChangePlan:
    old = plan.status
    assert_transition(plan, status)
    plan.status = status
    plan.save(update_fields=["status", *fields])
    audit_record(actor=actor, verb=verb, target=plan, from_state=old, to_state=status,
                 correlation=plan_correlation(plan), data=data, at=at)
    return plan


@transaction.atomic
def plan_go_live(*, actor: User, plan: ChangePlan, justification: str = "",
                 at: datetime | None = None) -> ChangePlan:
    """Take the plan live. Refused while a readiness condition fails, except for an ops
    leader who records a justification; the override is audited with the failing
    conditions."""
    at = at or timezone.now()
    plan = _lock_plan(plan)
    _require_change(actor, plan)
    assert_transition(plan, PlanStatus.LIVE)
    failing = [c.message for c in plan_readiness(plan) if not c.ok]
    justification = (justification or "").strip()
    if failing:
        if not justification:
            raise Conflict(
                f"“{plan}” is not ready: {len(failing)} condition(s) fail — "
                + " ".join(failing[:5]) + (" …" if len(failing) > 5 else ""),
                code="plan_not_ready",
            )
        if not actor.is_ops_leader:
            raise NotAllowed("Only an ops leader can take a plan live with unmet conditions.",
                             code="override_needs_ops_leader")
        plan.live_override_justification = justification
    plan.went_live_at = at
    data = {"override": bool(failing), "failing": failing}
    if failing:
        data["justification"] = justification
    return _move(plan, actor=actor, status=PlanStatus.LIVE,
                 fields=["went_live_at", "live_override_justification"], verb=AuditVerb.PLAN_LIVE,
                 data=data, at=at)


@transaction.atomic
def plan_mark_value_realized(*, actor: User, plan: ChangePlan, note: str = "",
                             at: datetime | None = None) -> ChangePlan:
    at = at or timezone.now()
    plan = _lock_plan(plan)
    _require_change(actor, plan)
    assert_transition(plan, PlanStatus.VALUE_REALIZED)
    plan.closed_at, plan.closing_note = at, (note or "").strip()
    return _move(plan, actor=actor, status=PlanStatus.VALUE_REALIZED,
                 fields=["closed_at", "closing_note"], verb=AuditVerb.PLAN_VALUE_REALIZED,
                 data={"note": plan.closing_note}, at=at)


@transaction.atomic
def plan_abandon(*, actor: User, plan: ChangePlan, reason: str,
                 at: datetime | None = None) -> ChangePlan:
    at = at or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the plan is abandoned.", code="reason_required",
                               field_errors={"reason": ["A reason is required."]})
    plan = _lock_plan(plan)
    _require_change(actor, plan)
    assert_transition(plan, PlanStatus.ABANDONED)
    plan.closed_at, plan.closing_note = at, reason
    return _move(plan, actor=actor, status=PlanStatus.ABANDONED,
                 fields=["closed_at", "closing_note"], verb=AuditVerb.PLAN_ABANDONED,
                 data={"reason": reason}, at=at)


# --- Legacy workflows ------------------------------------------------------------------------
def _lock_workflow(workflow: LegacyWorkflow) -> LegacyWorkflow:
    return LegacyWorkflow.objects.select_for_update().select_related(
        "plan", "owning_department").get(pk=workflow.pk)


def _require_open_plan(workflow: LegacyWorkflow) -> None:
    if not workflow.plan.is_open:
        raise Conflict(f"“{workflow.plan}” is {workflow.plan.get_status_display().lower()}.",
                       code=ErrorCode.PLAN_CLOSED)


@transaction.atomic
def workflow_retire(*, actor: User, workflow: LegacyWorkflow, evidence: str,
                    on: date | None = None) -> LegacyWorkflow:
    """Record that a shadow process is gone, with the evidence. The owning head, the
    sponsor or an ops leader may."""
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationFailed(
            "Say how we know it is gone (the mailbox closed, the sheet made read-only…).",
            code="evidence_required", field_errors={"evidence": ["Evidence is required."]})
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationFailed("A retirement cannot be dated in the future.",
                               code="retired_in_future",
                               field_errors={"on": ["Today or earlier."]})
    workflow = _lock_workflow(workflow)
    _require_open_plan(workflow)
    if workflow.retired_on is None and not workflow.can_retire(actor):
        raise NotAllowed(f"Only the head of {workflow.owning_department}, the sponsor or an ops "
                         "leader can retire this workflow.", code="not_workflow_owner")
    if workflow.retired_on is not None:
        raise Conflict(f"“{workflow}” was already retired on {workflow.retired_on}.",
                       code="already_retired")
    old = workflow.decision
    workflow.decision, workflow.retired_on, workflow.evidence = WorkflowDecision.RETIRE, on, evidence
    workflow.keep_reason = ""
    workflow.save(update_fields=["decision", "retired_on", "evidence", "keep_reason"])
    audit_record(actor=actor, verb=AuditVerb.WORKFLOW_RETIRED, target=workflow, from_state=old,
                 to_state="retired", correlation=plan_correlation(workflow.plan),
                 data={"retired_on": on, "evidence": evidence})
    return workflow


@transaction.atomic
def workflow_keep(*, actor: User, workflow: LegacyWorkflow, reason: str) -> LegacyWorkflow:
    """Decide that a shadow process stays, with the reason. Only the sponsor or an ops leader:
    the owning head cannot exempt their own department."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why this workflow stays.", code="reason_required",
                               field_errors={"reason": ["A reason is required."]})
    workflow = _lock_workflow(workflow)
    _require_open_plan(workflow)
    _require_change(actor, workflow.plan)
    if workflow.retired_on is not None:
        raise Conflict(f"“{workflow}” was already retired on {workflow.retired_on}.",
                       code="already_retired")
    old = workflow.decision
    workflow.decision, workflow.keep_reason = WorkflowDecision.KEEP, reason
    workflow.save(update_fields=["decision", "keep_reason"])
    audit_record(actor=actor, verb=AuditVerb.WORKFLOW_KEPT, target=workflow, from_state=old,
                 to_state=WorkflowDecision.KEEP, correlation=plan_correlation(workflow.plan),
                 data={"reason": reason})
    return workflow


def workflows_remind_overdue(*, today: date | None = None) -> int:
    """Tell the owning head of every overdue retirement (of a plan still in progress), at most
    once per workflow per day, however often it runs. Returns how many were told."""
    today = today or timezone.localdate()
    due = (
        LegacyWorkflow.objects.overdue(today)
        .filter(plan__status__in=PLAN_OPEN_STATES)
        .exclude(last_reminded_on=today)
        .select_related("plan", "owning_department__head")
    )
    told = 0
    for workflow in due.iterator(chunk_size=500):
        told += _remind(workflow, today)
    return told


@transaction.atomic
def _remind(workflow: LegacyWorkflow, today: date) -> int:
    head = workflow.owning_department.head
    # The conditional update is the claim: a second run the same day updates nothing.
    claimed = (
        LegacyWorkflow.objects.filter(pk=workflow.pk)
        .exclude(last_reminded_on=today)
        .update(last_reminded_on=today)
    )
    if not claimed or head is None:
        return 0
    days = (today - workflow.retire_by).days
    link = reverse("plans:detail", args=[workflow.plan_id]) + f"#workflow-{workflow.pk}"
    _notify(
        recipient=head,
        subject=f"Overdue: retire “{workflow}” ({days} days late)",
        body=(
            f"“{workflow}” ({workflow.get_channel_display().lower()}) was due to be retired by "
            f"{workflow.retire_by} under the change plan “{workflow.plan}”. As head of "
            f"{workflow.owning_department} you are accountable for it. Record its retirement "
            "with evidence, or ask the sponsor to decide to keep it."
        ),
        link=link,
        target=workflow,
        correlation=plan_correlation(workflow.plan),
    )
    return 1


def _notify(*, recipient: User, subject: str, body: str, link: str, target: models.Model,
            correlation: str = "") -> None:
    """The one place change plans notify someone: an audit event and a row in the
    notification outbox, in the caller's transaction (e-mail and in-app list follow)."""

    audit_record(actor=None, verb=AuditVerb.NOTIFICATION_SENT, target=target, correlation=correlation,
                 data={"recipient": recipient.username, "subject": subject, "link": link})
    notifications_create(drafts=[Draft(recipient=recipient, kind=NotificationKind.PLAN,
                                       subject=subject, body=body, link=link)])
