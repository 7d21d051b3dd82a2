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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accountability.choices import PLAN_OPEN_STATES, Channel, PlanStatus, WorkflowDecision
from accountability.models import ChangePlan, LegacyWorkflow, NotificationKind
from accountability.selectors_plans import plan_correlation, plan_readiness
from accountability.services.notifications import Draft, notifications_create
from governance import limits
from governance.choices import AuditVerb
from governance.errors import Conflict, ErrorCode, NotAllowed, ValidationFailed
from governance.models import Department, User
from governance.services.audit import audit_record
from governance.states import assert_transition
from kit.i18n import in_language_of

logger = logging.getLogger(__name__)


def _lock_plan(plan: ChangePlan) -> ChangePlan:
    return ChangePlan.objects.select_for_update().get(pk=plan.pk)


def _require_change(actor: User, plan: ChangePlan) -> None:
    if not plan.changeable_by(actor):
        raise NotAllowed(_("Only an ops leader or the sponsor (%(sponsor)s) can change "
                           "“%(plan)s”.") % {"sponsor": plan.sponsor, "plan": plan},
                         code=ErrorCode.NOT_PLAN_OWNER)


def _move(plan: ChangePlan, *, actor: User, status: str, fields: list[str], verb: AuditVerb,
          data: dict, at: datetime) -> ChangePlan:
    old = plan.status
    assert_transition(plan, status)
    plan.status = status
    plan.save(update_fields=["status", *fields])
    audit_record(actor=actor, verb=verb, target=plan, from_state=old, to_state=status,
                 correlation=plan_correlation(plan), data=data, at=at)
    return plan


# --- Creating and editing -------------------------------------------------------------------
def _required(value, *, field: str, what: str):
    if value in (None, ""):
        raise ValidationFailed(_("Give the %(what)s.") % {"what": what},
                               code=ErrorCode.FIELD_REQUIRED,
                               field_errors={field: [_("This field is required.")]})
    return value


def _name(value: str | None, *, what: str) -> str:
    name = limits.checked_text(value, limit=limits.NAME, field="name", what=what)
    if not name:
        raise ValidationFailed(_("Give the %(what)s.") % {"what": what},
                               code=ErrorCode.NAME_REQUIRED,
                               field_errors={"name": [_("A name is required.")]})
    return name


def _plan_values(*, name, description, sponsor, go_live_on, value_target_on) -> dict:
    """The plan's fields checked as one: the rules the form and the admin share."""
    values = {
        "name": _name(name, what=gettext_lazy("plan a name")),
        "description": limits.checked_text(description, limit=limits.PLAN_DESCRIPTION,
                                           field="description", what=gettext_lazy("description")),
        "sponsor": _required(sponsor, field="sponsor", what=gettext_lazy("plan a sponsor")),
        "go_live_on": _required(go_live_on, field="go_live_on", what=gettext_lazy("go-live date")),
        "value_target_on": _required(value_target_on, field="value_target_on",
                                     what=gettext_lazy("date by which the value should show")),
    }
    if not values["sponsor"].is_active:
        raise ValidationFailed(_("%(sponsor)s has left: choose an active sponsor.")
                               % {"sponsor": values["sponsor"]},
                               code=ErrorCode.INVALID,
                               field_errors={"sponsor": [_("Choose an active person.")]})
    if values["value_target_on"] < values["go_live_on"]:
        raise ValidationFailed(_("Value can only be realized on or after go-live."),
                               code=ErrorCode.DATES_REVERSED,
                               field_errors={"value_target_on": [_("On or after the go-live date.")]})
    return values


def _require_ops(actor: User) -> None:
    if not (actor.is_ops_leader or actor.is_superuser):
        raise NotAllowed(_("Only ops leaders start change plans."), code=ErrorCode.NOT_OPS_LEADER)


def _require_open(plan: ChangePlan) -> None:
    if not plan.is_open:
        raise Conflict(_("“%(plan)s” is %(status)s: it no longer changes.") % {
            "plan": plan, "status": plan.get_status_display().lower()},
                       code=ErrorCode.PLAN_CLOSED)


def _changes(obj: models.Model, values: dict) -> dict:
    """``{field: [old, new]}`` for the values that differ; foreign keys by their id."""
    changed = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changed[field] = [getattr(old, "pk", old), getattr(new, "pk", new)]
    return changed


@transaction.atomic
def plan_create(*, actor: User, name: str, sponsor: User | None, go_live_on: date | None,
                value_target_on: date | None, description: str = "", items=(),
                at: datetime | None = None) -> ChangePlan:
    """Start a change plan (ops leaders): its sponsor, the catalog items it brings live and
    the dates by which they go live and show their value. Legacy workflows are added next."""
    _require_ops(actor)
    values = _plan_values(name=name, description=description, sponsor=sponsor,
                          go_live_on=go_live_on, value_target_on=value_target_on)
    at = at or timezone.now()
    plan = ChangePlan.objects.create(**values, created_at=at)
    items = list(items)
    plan.items.set(items)
    audit_record(actor=actor, verb=AuditVerb.PLAN_CREATED, target=plan,
                 to_state=PlanStatus.PLANNING, correlation=plan_correlation(plan), at=at,
                 data={"sponsor": plan.sponsor_id, "go_live_on": plan.go_live_on,
                       "value_target_on": plan.value_target_on,
                       "items": sorted(item.pk for item in items)})
    return plan


@transaction.atomic
def plan_update(*, actor: User, plan: ChangePlan, name: str, sponsor: User | None,
                go_live_on: date | None, value_target_on: date | None, description: str = "",
                items=None) -> ChangePlan:
    """Edit an open plan (its sponsor or an ops leader). Once live, its go-live date is
    history and stays; a closed plan no longer changes. One audit event lists what changed."""
    plan = _lock_plan(plan)
    _require_change(actor, plan)
    _require_open(plan)
    values = _plan_values(name=name, description=description, sponsor=sponsor,
                          go_live_on=go_live_on, value_target_on=value_target_on)
    if plan.status != PlanStatus.PLANNING and values["go_live_on"] != plan.go_live_on:
        raise Conflict(_("“%(plan)s” went live on %(date)s: that date no longer changes.") % {
            "plan": plan, "date": plan.go_live_on}, code=ErrorCode.PLAN_ALREADY_LIVE,
                       field_errors={"go_live_on": [_("The plan is already live.")]})
    changed = _changes(plan, values)
    if items is not None:
        before = set(plan.items.values_list("pk", flat=True))
        after = {item.pk for item in items}
        if before != after:
            changed["items"] = [sorted(before), sorted(after)]
            plan.items.set(items)
    if not changed:
        return plan
    for field, value in values.items():
        setattr(plan, field, value)
    plan.save(update_fields=list(values))
    audit_record(actor=actor, verb=AuditVerb.PLAN_CHANGED, target=plan,
                 correlation=plan_correlation(plan), data={"changed": changed})
    return plan


def _workflow_values(plan: ChangePlan, *, name, channel, owning_department, replaced_by,
                     retire_by) -> dict:
    values = {
        "name": _name(name, what=gettext_lazy("workflow a name")),
        "channel": _required(channel, field="channel", what=gettext_lazy("channel it runs on")),
        "owning_department": _required(owning_department, field="owning_department",
                                       what=gettext_lazy("department that owns it")),
        "replaced_by": replaced_by,
        "retire_by": _required(retire_by, field="retire_by", what=gettext_lazy("date it should be retired by")),
    }
    if values["channel"] not in Channel.values:
        raise ValidationFailed(_("Unknown channel “%(channel)s”.") % {"channel": channel},
                               code=ErrorCode.INVALID,
                               field_errors={"channel": [_("Choose one of the channels.")]})
    if replaced_by is not None and not plan.items.filter(pk=replaced_by.pk).exists():
        raise ValidationFailed(_("“%(item)s” is not one of the plan's catalog items.")
                               % {"item": replaced_by}, code=ErrorCode.ITEM_NOT_IN_PLAN,
                               field_errors={"replaced_by": [_("Add the item to the plan first.")]})
    return values


@transaction.atomic
def workflow_add(*, actor: User, plan: ChangePlan, name: str, channel: str,
                 owning_department: Department | None, retire_by: date | None,
                 replaced_by=None) -> LegacyWorkflow:
    """Name a shadow process the plan retires, the department whose head retires it and by
    when (the sponsor or an ops leader, while the plan is open)."""
    plan = _lock_plan(plan)
    _require_change(actor, plan)
    _require_open(plan)
    values = _workflow_values(plan, name=name, channel=channel, replaced_by=replaced_by,
                              owning_department=owning_department, retire_by=retire_by)
    workflow = LegacyWorkflow.objects.create(plan=plan, **values)
    audit_record(actor=actor, verb=AuditVerb.WORKFLOW_ADDED, target=workflow,
                 to_state=workflow.decision, correlation=plan_correlation(plan),
                 data={"owning_department": workflow.owning_department_id,
                       "retire_by": workflow.retire_by, "channel": workflow.channel})
    return workflow


@transaction.atomic
def workflow_update(*, actor: User, workflow: LegacyWorkflow, name: str, channel: str,
                    owning_department: Department | None, retire_by: date | None,
                    replaced_by=None) -> LegacyWorkflow:
    """Edit a workflow not yet retired, on an open plan (the sponsor or an ops leader)."""
    workflow = _lock_workflow(workflow)
    _require_change(actor, workflow.plan)
    _require_open_plan(workflow)
    if workflow.retired_on is not None:
        raise Conflict(_("“%(workflow)s” was already retired on %(date)s.") % {
            "workflow": workflow, "date": workflow.retired_on},
                       code=ErrorCode.ALREADY_RETIRED)
    values = _workflow_values(workflow.plan, name=name, channel=channel,
                              replaced_by=replaced_by, owning_department=owning_department,
                              retire_by=retire_by)
    changed = _changes(workflow, values)
    if not changed:
        return workflow
    for field, value in values.items():
        setattr(workflow, field, value)
    workflow.save(update_fields=list(values))
    audit_record(actor=actor, verb=AuditVerb.WORKFLOW_CHANGED, target=workflow,
                 correlation=plan_correlation(workflow.plan), data={"changed": changed})
    return workflow


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
            raise NotAllowed(_("Only an ops leader can take a plan live with unmet conditions."),
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
        raise ValidationFailed(_("Say why the plan is abandoned."), code="reason_required",
                               field_errors={"reason": [_("A reason is required.")]})
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
        raise Conflict(_("“%(plan)s” is %(status)s.") % {
            "plan": workflow.plan, "status": workflow.plan.get_status_display().lower()},
                       code=ErrorCode.PLAN_CLOSED)


@transaction.atomic
def workflow_retire(*, actor: User, workflow: LegacyWorkflow, evidence: str,
                    on: date | None = None) -> LegacyWorkflow:
    """Record that a shadow process is gone, with the evidence. The owning head, the
    sponsor or an ops leader may."""
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationFailed(
            _("Say how we know it is gone (the mailbox closed, the sheet made read-only…)."),
            code="evidence_required", field_errors={"evidence": [_("Evidence is required.")]})
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationFailed(_("A retirement cannot be dated in the future."),
                               code="retired_in_future",
                               field_errors={"on": [_("Today or earlier.")]})
    workflow = _lock_workflow(workflow)
    _require_open_plan(workflow)
    if workflow.retired_on is None and not workflow.can_retire(actor):
        raise NotAllowed(_("Only the head of %(department)s, the sponsor or an ops leader can "
                           "retire this workflow.") % {"department": workflow.owning_department},
                         code="not_workflow_owner")
    if workflow.retired_on is not None:
        raise Conflict(_("“%(workflow)s” was already retired on %(date)s.") % {
            "workflow": workflow, "date": workflow.retired_on},
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
        raise ValidationFailed(_("Say why this workflow stays."), code="reason_required",
                               field_errors={"reason": [_("A reason is required.")]})
    workflow = _lock_workflow(workflow)
    _require_open_plan(workflow)
    _require_change(actor, workflow.plan)
    if workflow.retired_on is not None:
        raise Conflict(_("“%(workflow)s” was already retired on %(date)s.") % {
            "workflow": workflow, "date": workflow.retired_on},
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
    with in_language_of(head):
        facts = {"workflow": workflow, "days": days, "by": workflow.retire_by,
                 "channel": workflow.get_channel_display().lower(), "plan": workflow.plan,
                 "department": workflow.owning_department}
        subject = _("Overdue: retire “%(workflow)s” (%(days)s days late)") % facts
        body = _("“%(workflow)s” (%(channel)s) was due to be retired by %(by)s under the change "
                 "plan “%(plan)s”. As head of %(department)s you are accountable for it. Record "
                 "its retirement with evidence, or ask the sponsor to decide to keep it.") % facts
    _notify(
        recipient=head,
        subject=subject,
        body=body,
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
