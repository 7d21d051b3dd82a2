"""Execution steps: an agent takes one on and completes it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.choices import StepKind, StepState
from approvals.models import Step
from approvals.services.flow import request_advance
from approvals.services.paths import steps_build
from approvals.services.steps import _close_step, _lock, _require_active
from governance import limits
from governance.choices import AuditVerb
from governance.errors import Conflict, NotAllowed, ValidationFailed
from governance.limits import checked_text
from governance.models import User
from governance.selectors import is_agent_of
from governance.services.audit import audit_record
from requests_app.models import ServiceRequest
from requests_app.money import MoneyFormat, parse_money


def _require_agent(actor: User, step: Step, *, doing: str) -> None:
    if not is_agent_of(actor, step.accountable_department_id):
        refusals = {
            "complete": _("Only agents of %(department)s can complete “%(step)s”."),
            "take on": _("Only agents of %(department)s can take on “%(step)s”."),
            "take over": _("Only agents of %(department)s can take over “%(step)s”."),
        }
        raise NotAllowed(
            refusals[doing] % {"department": step.accountable_department, "step": step.name},
            code="not_agent",
        )


@transaction.atomic
def step_complete(*, actor: User, step: Step, note: str = "", actual_cost: Any = None,
                  money: MoneyFormat | None = None, at: datetime | None = None) -> Step:
    """Mark an execution step done. A step a colleague has taken is theirs to finish: take
    it over first (``step_take_over``), so the hand-over is on the record.

    ``actual_cost`` (items that record it; required on the step that fulfils the request) is
    read by ``parse_money`` in ``money``'s format. When it reaches a finance threshold the
    request skipped, the request goes back to finance before it is fulfilled
    (``_back_to_finance``)."""
    at = at or timezone.now()
    note = checked_text(note, limit=limits.DECISION_COMMENT, field="note", what=gettext_lazy("note"))
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.EXECUTION)
    _require_agent(actor, step, doing="complete")
    if step.assignee_id not in (None, actor.pk):
        raise Conflict(
            _("%(assignee)s has taken “%(step)s” on %(reference)s. Take it over first if you "
              "are finishing it for them.") % {"assignee": step.assignee, "step": step.name,
                                               "reference": step.request.reference},
            code="claimed_by_other",
        )
    request = step.request
    fulfils = not any(s.state == StepState.PENDING
                      for s in request.__dict__.get("_srm_pending_steps", ()))
    cost = _actual_cost(request, actual_cost, money=money, fulfils=fulfils)
    _close_step(step, state=StepState.DONE, actor=actor, acted_for=None, comment=note, at=at)
    if cost is not None:
        _record_actual_cost(request, cost, actor=actor, at=at)
        if fulfils and (added := _back_to_finance(request, cost, actor=actor, at=at)):
            request._srm_pending_steps = added  # request_advance activates the first
    request_advance(request=request, actor=actor, at=at)
    return step


def _actual_cost(request: ServiceRequest, value: Any, *, money: MoneyFormat | None,
                 fulfils: bool) -> Decimal | None:
    item = request.item
    if value is None or (isinstance(value, str) and not value.strip()):
        if item.records_actual_cost and fulfils:
            raise ValidationFailed(
                _("State what %(reference)s actually cost: “%(item)s” records it at "
                  "fulfilment (0 if nothing).") % {"reference": request.reference, "item": item},
                code="actual_cost_required",
                field_errors={"actual_cost": [_("State the actual cost (0 if none).")]},
            )
        return None
    if not item.records_actual_cost:
        raise ValidationFailed(
            _("“%(item)s” does not record an actual cost; leave it empty.") % {"item": item},
            code="actual_cost_not_recorded",
            field_errors={"actual_cost": [_("This item does not record an actual cost.")]},
        )
    return parse_money(value, fmt=money, field="actual_cost", label=gettext_lazy("actual cost"))


def _record_actual_cost(request: ServiceRequest, cost: Decimal, *, actor: User,
                        at: datetime) -> None:
    previous = request.actual_cost
    request.actual_cost = cost
    request.save(update_fields=["actual_cost"])
    audit_record(
        actor=actor,
        verb=AuditVerb.REQUEST_ACTUAL_COST_RECORDED,
        target=request,
        correlation=request.reference,
        data={"actual_cost": cost, "estimated_cost": request.estimated_cost,
              "previous_actual_cost": previous},
        at=at,
    )


def _back_to_finance(request: ServiceRequest, cost: Decimal, *, actor: User,
                     at: datetime) -> list[Step]:
    """The approval steps the request skipped because its estimate was below their threshold
    (a finance approval) and that its actual ``cost`` reaches: added after the work, pending,
    routed as at submission (separation of duties included). The request goes back to
    approval when the first is activated; audited here. Empty when none applies."""
    skipped = list(
        request.steps.filter(state=StepState.SKIPPED, kind=StepKind.APPROVAL,
                             template__min_cost__isnull=False, template__min_cost__lte=cost)
        .select_related("template").order_by("order")
    )
    if not skipped:
        return []
    templates = list(request.item.path.templates.order_by("order"))
    built = {s.template_id: s for s in steps_build(request=request, templates=templates,
                                                   cost=cost)}
    last = request.steps.aggregate(last=Max("order"))["last"] or 0
    added = []
    for position, was in enumerate(skipped, start=1):
        step = built[was.template_id]
        step.order = last + position
        step.state = StepState.PENDING
        added.append(step)
    added = Step.objects.bulk_create(added)
    audit_record(
        actor=actor,
        verb=AuditVerb.REQUEST_BACK_TO_FINANCE,
        target=request,
        correlation=request.reference,
        data={"actual_cost": cost, "estimated_cost": request.estimated_cost,
              "thresholds": {s.name: s.template.min_cost for s in skipped},
              "steps": [{"step": s.name, "head": s.accountable_head.username} for s in added]},
        at=at,
    )
    for step in added:
        step.request = request
    return added


@transaction.atomic
def step_claim(*, actor: User, step: Step, at: datetime | None = None) -> Step:
    """Assign an active execution step nobody has taken to the agent who takes it on."""
    at = at or timezone.now()
    step = _lock(step)
    _require_active(step, StepKind.EXECUTION)
    _require_agent(actor, step, doing="take on")
    if step.assignee_id == actor.pk:
        raise Conflict(_("“%(step)s” on %(reference)s is already yours.") % {
            "step": step.name, "reference": step.request.reference}, code="already_yours")
    if step.assignee_id is not None:
        raise Conflict(
            _("%(assignee)s has already taken “%(step)s” on %(reference)s. Take it over if you "
              "are finishing it for them.") % {"assignee": step.assignee, "step": step.name,
                                               "reference": step.request.reference},
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
    reason = checked_text(reason, limit=limits.DECISION_COMMENT, field="reason", what=gettext_lazy("reason"))
    step = _lock(step)
    _require_active(step, StepKind.EXECUTION)
    _require_agent(actor, step, doing="take over")
    if step.assignee_id is None:
        raise Conflict(_("Nobody has taken “%(step)s” on %(reference)s: take it on instead.")
                       % {"step": step.name, "reference": step.request.reference},
                       code="not_claimed")
    if step.assignee_id == actor.pk:
        raise Conflict(_("“%(step)s” on %(reference)s is already yours.") % {
            "step": step.name, "reference": step.request.reference}, code="already_yours")
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
