"""Moving a request along its path: hand over to the next step, fulfil, close, cancel.
The callers hold the request's row lock."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.choices import STEP_MACHINE, StepKind, StepState
from approvals.models import Step
from approvals.services.steps import _close_step, step_set_active
from approvals.signals import request_closed, step_handed_over
from governance import limits
from governance.choices import AuditVerb
from governance.errors import Conflict, NotAllowed
from governance.limits import checked_text
from governance.models import AuditEvent, User
from governance.services.audit import audit_build, audit_record, audit_save
from governance.states import assert_transition
from requests_app.choices import OPEN_STATES, RequestState
from requests_app.models import ServiceRequest


def request_advance(*, request: ServiceRequest, actor: User | None, at: datetime) -> Step | None:
    """Activate the next pending step (a handoff), or fulfil the request when none is left.
    The caller holds the request's row lock."""
    pending = request.__dict__.pop("_srm_pending_steps", None)  # read by _lock(with_pending)
    if pending is not None:
        step = next((s for s in pending if s.state == StepState.PENDING), None)
    else:
        step = (
            request.steps.filter(state=StepState.PENDING)
            .select_related("accountable_department", "accountable_head")
            .order_by("order")
            .first()
        )
    if step is None:
        request_close(request=request, state=RequestState.FULFILLED, actor=actor, at=at)
        return None
    step_set_active(step, at=at)
    _handed_over(request=request, step=step, actor=actor, at=at,
                 step_fields=["state", "activated_at", "due_at"])
    step_handed_over.send(sender=Step, step=step, at=at)
    return step


def request_start(*, request: ServiceRequest, steps: list[Step], actor: User | None,
                  at: datetime, events: list[AuditEvent] = ()) -> list[AuditEvent] | None:
    """``request_advance`` for a request being submitted, whose ``steps`` are built but not
    saved yet: the first pending one is saved already active (no read-back, no second
    write), then the request moves on exactly as after ``request_advance``. A request not
    saved yet (its key and its steps' reserved: ``RequestCounter.next_with_ids``) is written
    once, pointing at its first step already. ``events``
    (the submission's own audit event) are written first, in the same statement as the
    handoff's. Saves the steps and returns every audit event written, in order (None when
    nothing applied and the request was fulfilled at once)."""
    first = next((s for s in sorted(steps, key=lambda s: s.order)
                  if s.state == StepState.PENDING), None)
    if first is not None:
        step_set_active(first, at=at)
        if request._state.adding and all(s.pk is not None for s in steps):
            # Keys reserved: the steps, the request and the audit events in one statement.
            return _handed_over(request=request, step=first, actor=actor, at=at,
                                events=events, new_steps=steps)
    elif request._state.adding:
        request.save(force_insert=True)
    Step.objects.bulk_create(steps)
    if first is None:  # nothing applies: fulfilled at once, as request_advance decides
        audit_save(list(events))
        request_advance(request=request, actor=actor, at=at)
        return None
    if first.pk is None:  # a database that returns no ids from a bulk insert
        first.pk = Step.objects.values_list("pk", flat=True).get(request=request, order=first.order)
    return _handed_over(request=request, step=first, actor=actor, at=at, events=events)


def _handed_over(*, request: ServiceRequest, step: Step, actor: User | None, at: datetime,
                 events: list[AuditEvent] = (), step_fields: list[str] = (),
                 new_steps: list[Step] = ()) -> list[AuditEvent]:
    """``step`` (active) is now the request's: point the request at it and record the
    handoff. ``step_fields``: what changed on the step; ``new_steps``: the steps of a request
    being submitted, not saved yet. The step, the request and the audit events are written in
    one statement (PostgreSQL). Returns the events written (``events`` first)."""
    department = step.accountable_department
    new_state = RequestState.IN_APPROVAL if step.kind == StepKind.APPROVAL else RequestState.IN_PROGRESS
    old_state = request.state
    if old_state != new_state:
        assert_transition(request, new_state)
    request.current_step = step
    request.accountable_department = department
    request.state = new_state
    events = list(events)
    events.append(audit_build(
        actor=actor,
        verb=AuditVerb.STEP_ACTIVATED,
        target=step,
        from_state=StepState.PENDING,
        to_state=StepState.ACTIVE,
        correlation=request.reference,
        data={
            "step": step.name,
            "department": department.code,
            "head": step.accountable_head.username if step.accountable_head else None,
            "due_at": step.due_at,
        },
        at=at,
    ))
    if old_state != new_state:
        events.append(audit_build(
            actor=actor,
            verb=AuditVerb.of("request", new_state),
            target=request,
            from_state=old_state,
            to_state=new_state,
            correlation=request.reference,
            at=at,
        ))
    if request._state.adding:  # submitted just now: one insert (the step's key is reserved)
        if not new_steps:
            request.save(force_insert=True)
            audit_save(events)
        else:
            audit_save(events, inserts=[new_steps, [request]])
    else:
        audit_save(events, updates=[*([(step, list(step_fields))] if step_fields else []),
                                    (request, ["current_step", "accountable_department",
                                               "state"])])
    return events


def request_close(*, request: ServiceRequest, state: str, actor: User | None, at: datetime,
                  reason: str = "") -> None:
    """Close the request and cancel whatever of its path had not started; ``reason`` (a
    rejection's or cancellation's) goes to the requester with the news.
    The caller holds the request's row lock."""
    old_state = request.state
    assert_transition(request, state)
    request.state = state
    request.closed_at = at
    request.current_step = None
    request.accountable_department = None
    request.save(update_fields=["state", "closed_at", "current_step", "accountable_department"])
    # Every step that had not started; PENDING → CANCELLED is a move STEP_MACHINE allows.
    assert_transition(STEP_MACHINE, StepState.CANCELLED, from_state=StepState.PENDING)
    request.steps.filter(state=StepState.PENDING).update(state=StepState.CANCELLED)
    audit_record(
        actor=actor,
        verb=AuditVerb.of("request", state),
        target=request,
        from_state=old_state,
        to_state=state,
        correlation=request.reference,
        at=at,
    )
    request_closed.send(sender=ServiceRequest, request=request, state=state, actor=actor,
                        reason=reason, at=at)


@transaction.atomic
def request_cancel(*, actor: User, request: ServiceRequest, reason: str = "",
                   at: datetime | None = None) -> ServiceRequest:
    at = at or timezone.now()
    reason = checked_text(reason, limit=limits.CANCEL_REASON, field="reason", what=gettext_lazy("reason"))
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if request.state not in OPEN_STATES:
        raise Conflict(
            _("%(reference)s is already %(state)s.") % {
                "reference": request.reference, "state": request.get_state_display().lower()},
            code="request_closed",
        )
    if not request.can_cancel(actor):
        raise NotAllowed(_("Only the requester or an ops leader can cancel this request."),
                         code="not_requester")
    active = Step.objects.select_for_update().filter(request=request, state=StepState.ACTIVE).first()
    if active is not None:
        active.request = request
        _close_step(active, state=StepState.CANCELLED, actor=actor, acted_for=None,
                    comment=reason, at=at)
    request_close(request=request, state=RequestState.CANCELLED, actor=actor, at=at,
                  reason=reason)
    return request
