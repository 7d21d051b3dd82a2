"""The only code that moves steps. Each action locks the request row first (then the step),
checks its precondition, changes state, writes its audit event and emits its domain event,
all in one transaction, so two people clicking at once cannot both win."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from approvals.choices import Responsible, StepKind, StepState
from approvals.models import Delegation, Step, StepHold, StepTemplate
from approvals.signals import request_closed, step_activated, step_closed
from governance.errors import AlreadyDecided, Conflict, NotAllowed, ValidationFailed
from governance.models import AuditEvent, Department, User
from governance.selectors import is_agent_of, is_approver_of
from governance.services.audit import audit_build, audit_record, audit_save
from requests_app.choices import OPEN_STATES, RequestState
from requests_app.models import ServiceRequest

_STEP_FIELDS_ON_CLOSE = ["state", "completed_at", "decided_by", "acted_for", "comment",
                         "on_hold_since", "decided_outside", "due_at"]


# --- Building a request's path ---------------------------------------------------------------
def steps_materialise(*, request: ServiceRequest, templates: list[StepTemplate]) -> list[Step]:
    """Create one step per template: pending where it applies, skipped where its condition
    (a cost threshold) does not hold. Approval steps never land on the requester: when the
    requester heads the department, the step goes up to the parent department's head."""
    return Step.objects.bulk_create(steps_build(request=request, templates=templates))


def steps_build(*, request: ServiceRequest, templates: list[StepTemplate],
                departments: dict[int, Department] | None = None) -> list[Step]:
    """The unsaved steps of ``steps_materialise``, for callers that save many requests' steps
    in one statement (the legacy import passes ``departments``, all of them with their heads,
    loaded once for the whole batch)."""
    steps = []
    if departments is None:
        departments = _departments_of(templates, request)
    for template in templates:
        department = departments[_responsible_department_id(template, request)]
        head = department.head
        if template.kind == StepKind.APPROVAL:
            department, head = _independent_approver(department, request.requester)
        applies = template.applies_to(request.estimated_cost)
        if applies and head is None:
            raise ValidationFailed(
                f"{department} has no head to be accountable for “{template.name}”. "
                "Ask an administrator to name one.",
                code="no_accountable_head",
            )
        steps.append(
            Step(
                request=request,
                template=template,
                order=template.order,
                name=template.name,
                kind=template.kind,
                ola_hours=template.ola_hours,
                state=StepState.PENDING if applies else StepState.SKIPPED,
                accountable_department=department,
                accountable_head=head,
            )
        )
    return steps


def steps_replay(*, request: ServiceRequest, steps: list[Step], outcome: str,
                 closed_at: datetime | None, now: datetime) -> Step | None:
    """Put a back-filled request's freshly built steps in the states its recorded outcome
    implies, at plausible times, in memory (the legacy import saves them in bulk).

    ``outcome`` is a ``LegacyStatus`` value. Closed outcomes spread the steps evenly between
    submission and ``closed_at``; without ``closed_at`` each step takes its OLA. Open outcomes
    leave one step active (its due time computed as on activation) and return it. Sets the
    request's ``state`` and ``closed_at``. Raises ``ValidationFailed`` when the path cannot
    reach that outcome (for example "rejected" on a path without an approval step).
    """
    live = [s for s in steps if s.state == StepState.PENDING]
    approvals_first = next((i for i, s in enumerate(live) if s.kind == StepKind.APPROVAL), None)
    execution_first = next((i for i, s in enumerate(live) if s.kind == StepKind.EXECUTION), None)
    imported = "Imported from a legacy tracker."

    def play(sequence: list[tuple[Step, str]], end: datetime | None) -> datetime:
        at = request.submitted_at
        for position, (step, state) in enumerate(sequence, start=1):
            step_set_active(step, at=at)
            if end is not None:
                done = request.submitted_at + (end - request.submitted_at) * position / len(sequence)
            else:
                done = min(step.due_at, now)
            decider = step.accountable_head if step.kind == StepKind.APPROVAL and state in (
                StepState.APPROVED, StepState.REJECTED) else None
            step_set_closed(step, state=state, actor=decider, at=done, comment=imported)
            at = done
        return at

    def finish(at: datetime, state: str) -> None:
        request.state = state
        request.closed_at = at
        for step in live:
            if step.state == StepState.PENDING:
                step.state = StepState.CANCELLED

    def done_state(step: Step) -> str:
        return StepState.APPROVED if step.kind == StepKind.APPROVAL else StepState.DONE

    if outcome in (RequestState.FULFILLED, RequestState.REJECTED, RequestState.CANCELLED):
        if outcome == RequestState.FULFILLED:
            sequence = [(s, done_state(s)) for s in live]
        elif outcome == RequestState.REJECTED:
            if approvals_first is None:
                raise ValidationFailed("This item's path has no approval step to reject.",
                                       code="no_approval_step")
            sequence = [(s, done_state(s)) for s in live[:approvals_first]]
            sequence.append((live[approvals_first], StepState.REJECTED))
        else:
            sequence = [(live[0], StepState.CANCELLED)] if live else []
        end = play(sequence, closed_at) if sequence else (closed_at or request.submitted_at)
        finish(closed_at or end, outcome)
        return None
    if outcome == "in_progress":
        if execution_first is None:
            raise ValidationFailed("This item's path has no execution step to be in progress.",
                                   code="no_execution_step")
        at = play([(s, done_state(s)) for s in live[:execution_first]], None)
        current = live[execution_first]
    else:  # open / in_approval: waiting at its first step
        if not live:
            raise ValidationFailed("This item's path has no step that applies.", code="no_steps")
        if outcome == RequestState.IN_APPROVAL and live[0].kind != StepKind.APPROVAL:
            raise ValidationFailed("This item's path starts without an approval step.",
                                   code="no_approval_step")
        at, current = request.submitted_at, live[0]
    step_set_active(current, at=at)
    request.state = (RequestState.IN_APPROVAL if current.kind == StepKind.APPROVAL
                     else RequestState.IN_PROGRESS)
    request.closed_at = None
    request.accountable_department = current.accountable_department
    return current


def _responsible_department_id(template: StepTemplate, request: ServiceRequest) -> int:
    if template.responsible == Responsible.REQUESTER_HEAD:
        return request.requester_department_id
    if template.responsible == Responsible.DEPARTMENT:
        return template.department_id
    return request.item.fulfilling_department_id


def _departments_of(templates: list[StepTemplate], request: ServiceRequest) -> dict[int, Department]:
    """Every department the path touches, with its head, in one query (not two per step:
    submission is the hottest write path)."""
    return departments_for_path(templates, request)


def departments_for_path(templates: list[StepTemplate], request: ServiceRequest) -> dict[int, Department]:
    """The departments ``request``'s path touches, the item's fulfilling department (its
    calendar sets the request's due time) and the requester's, each with its head, in one
    query."""
    ids = {_responsible_department_id(t, request) for t in templates}
    ids.add(request.item.fulfilling_department_id)
    ids.add(request.requester_department_id)
    return Department.objects.select_related("head").in_bulk(ids)


def _independent_approver(department: Department, requester: User) -> tuple[Department, User | None]:
    seen = set()
    while department.head_id == requester.pk:
        if department.parent_id is None or department.pk in seen:
            raise ValidationFailed(
                f"You head {department} and it has no parent department, so nobody independent "
                "can approve your request. Ask an administrator to set a parent department.",
                code="no_independent_approver",
            )
        seen.add(department.pk)
        department = department.parent
    return department, department.head


# --- Moving along the path -------------------------------------------------------------------
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
    step.save(update_fields=["state", "activated_at", "due_at"])
    _handed_over(request=request, step=step, actor=actor, at=at)
    return step


def request_start(*, request: ServiceRequest, steps: list[Step], actor: User | None,
                  at: datetime, events: list[AuditEvent] = ()) -> Step | None:
    """``request_advance`` for a request being submitted, whose ``steps`` are built but not
    saved yet: the first pending one is saved already active (no read-back, no second
    write), then the request moves on exactly as after ``request_advance``. ``events``
    (the submission's own audit event) are written first, in the same statement as the
    handoff's. Saves the steps."""
    first = next((s for s in sorted(steps, key=lambda s: s.order)
                  if s.state == StepState.PENDING), None)
    if first is not None:
        step_set_active(first, at=at)
    Step.objects.bulk_create(steps)
    if first is None:  # nothing applies: fulfilled at once, as request_advance decides
        audit_save(list(events))
        return request_advance(request=request, actor=actor, at=at)
    if first.pk is None:  # a database that returns no ids from a bulk insert
        first.pk = Step.objects.values_list("pk", flat=True).get(request=request, order=first.order)
    written = _handed_over(request=request, step=first, actor=actor, at=at, events=events)
    # What was written, as saved, for a caller that answers with it (the API's 201 body).
    request.submitted_rows = (sorted(steps, key=lambda s: s.order), written)
    return first


def _handed_over(*, request: ServiceRequest, step: Step, actor: User | None, at: datetime,
                 events: list[AuditEvent] = ()) -> list[AuditEvent]:
    """``step`` (saved, active) is now the request's: point the request at it and record
    the handoff (audit events in one statement, then ``step_activated``). Returns the
    events written (``events`` first)."""
    department = step.accountable_department
    new_state = RequestState.IN_APPROVAL if step.kind == StepKind.APPROVAL else RequestState.IN_PROGRESS
    old_state = request.state
    request.current_step = step
    request.accountable_department = department
    request.state = new_state
    request.save(update_fields=["current_step", "accountable_department", "state"])
    events = list(events)
    events.append(audit_build(
        actor=actor,
        verb="step.activated",
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
            verb=f"request.{new_state}",
            target=request,
            from_state=old_state,
            to_state=new_state,
            correlation=request.reference,
            at=at,
        ))
    audit_save(events)
    step_activated.send(sender=Step, step=step, at=at)
    return events


def step_set_active(step: Step, *, at: datetime) -> None:
    """Activate ``step`` in memory: its clock starts at ``at``, due after its OLA in the
    accountable department's business time. The caller saves it."""
    step.state = StepState.ACTIVE
    step.activated_at = at
    step.due_at = step.accountable_department.calendar.add(at, step.ola_hours)


def step_set_closed(step: Step, *, state: str, actor: User | None, acted_for: User | None = None,
                    comment: str = "", at: datetime, outside: bool = False) -> None:
    """Close ``step`` in memory (approved, rejected, done or cancelled). The caller saves it."""
    step.state = state
    step.completed_at = at
    step.decided_by = actor
    step.acted_for = acted_for
    step.comment = comment
    step.decided_outside = outside


def request_close(*, request: ServiceRequest, state: str, actor: User | None, at: datetime) -> None:
    """Close the request and cancel whatever of its path had not started.
    The caller holds the request's row lock."""
    old_state = request.state
    request.state = state
    request.closed_at = at
    request.current_step = None
    request.accountable_department = None
    request.save(update_fields=["state", "closed_at", "current_step", "accountable_department"])
    request.steps.filter(state=StepState.PENDING).update(state=StepState.CANCELLED)
    audit_record(
        actor=actor,
        verb=f"request.{state}",
        target=request,
        from_state=old_state,
        to_state=state,
        correlation=request.reference,
        at=at,
    )
    request_closed.send(sender=ServiceRequest, request=request, at=at)


def _lock(step: Step, *, with_pending: bool = False) -> Step:
    """Lock the step's request, then the step, and return the fresh step (request attached).
    Locking in that order everywhere keeps concurrent actions on one request deadlock-free.

    ``with_pending``: for actions that then move the request on, the request's pending
    steps are read (and locked) in the same statement, so ``request_advance`` needs no
    query to find the next one."""
    request = ServiceRequest.objects.select_for_update().get(pk=step.request_id)
    locked = Step.objects.select_for_update(of=("self",)).select_related(
        "template", "accountable_department", "accountable_head")
    if not with_pending:
        fresh = locked.get(pk=step.pk)
    else:
        rows = list(
            locked.filter(request_id=step.request_id)
            .filter(Q(pk=step.pk) | Q(state=StepState.PENDING))
            .order_by("order")
        )
        fresh = next((row for row in rows if row.pk == step.pk), None)
        if fresh is None:
            raise Step.DoesNotExist("Step matching query does not exist.")
        pending = [row for row in rows if row.pk != step.pk]
        for row in pending:
            row.request = request
        request._srm_pending_steps = pending
    fresh.request = request
    return fresh


def _require_active(step: Step, kind: str) -> None:
    if step.state != StepState.ACTIVE:
        if step.state in (StepState.APPROVED, StepState.REJECTED, StepState.DONE):
            who = f" by {step.decided_by}" if step.decided_by_id else ""
            raise AlreadyDecided(
                f"“{step.name}” on {step.request.reference} was already "
                f"{step.get_state_display().lower()}{who}."
            )
        raise Conflict(
            f"“{step.name}” on {step.request.reference} is {step.get_state_display().lower()}, "
            "not waiting for anyone.",
            code="step_not_active",
        )
    if step.kind != kind:
        raise ValidationFailed(
            f"“{step.name}” is an {step.get_kind_display().lower()} step.", code="wrong_step_kind"
        )


def _decider(actor: User, step: Step) -> User | None:
    """Check ``actor`` may decide ``step``; return the head they act for when delegated."""
    if step.request.requester_id == actor.pk:
        raise NotAllowed("You cannot decide on your own request.", code="own_request")
    head = step.accountable_head
    if head is not None and head.pk == actor.pk:
        return None
    if head is not None and Delegation.objects.active().filter(delegator=head, delegate=actor).exists():
        return head
    if step.template.allow_department_approvers and is_approver_of(actor, step.accountable_department_id):
        return None
    raise NotAllowed(
        f"Only {head} (head of {step.accountable_department}) or their delegate can decide "
        f"“{step.name}”.",
        code="not_decider",
    )


def _close_step(step: Step, *, state: str, actor: User, acted_for: User | None, comment: str,
                at: datetime, outside: bool = False) -> None:
    old_state = step.state
    if step.on_hold_since is not None:
        _hold_end_with_step(step, at)
    step_set_closed(step, state=state, actor=actor, acted_for=acted_for, comment=comment, at=at,
                    outside=outside)
    step.save(update_fields=_STEP_FIELDS_ON_CLOSE)
    data = {"step": step.name, "comment": comment} if comment else {"step": step.name}
    if outside:
        data["decided_outside"] = True
    audit_record(
        actor=actor,
        on_behalf_of=acted_for,
        verb=f"step.{state}",
        target=step,
        from_state=old_state,
        to_state=state,
        correlation=step.request.reference,
        data=data,
        at=at,
    )
    step_closed.send(sender=Step, step=step, at=at)


def _hold_end_with_step(step: Step, at: datetime) -> None:
    """A step that closes while waiting for the requester (decided anyway, or the request
    cancelled) ends its open question; the time on hold stays the requester's."""
    hold = StepHold.objects.select_for_update().filter(step=step).open().first()
    if hold is not None:
        hold_end(step=step, hold=hold, at=at)
    step.on_hold_since = None


def hold_end(*, step: Step, hold, at: datetime) -> None:
    """End an open hold without an answer. Exactly as an answer would, the step's due time
    moves by the business time on hold, so the delay charged to the department (and any risk
    resolved when the step closes) excludes the requester's time. The caller saves the step."""
    hold.step = step
    hold.cancelled_at = at
    hold.business_hours = hold.business_hours_until(at)
    hold.save(update_fields=["cancelled_at", "business_hours"])
    if step.due_at is not None:
        step.due_at = step.accountable_department.calendar.add(step.due_at, hold.business_hours)
    step.on_hold_since = None


@transaction.atomic
def step_approve(*, actor: User, step: Step, comment: str = "", at: datetime | None = None) -> Step:
    at = at or timezone.now()
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.APPROVAL)
    acted_for = _decider(actor, step)
    _close_step(step, state=StepState.APPROVED, actor=actor, acted_for=acted_for,
                comment=comment.strip(), at=at)
    request_advance(request=step.request, actor=actor, at=at)
    return step


@transaction.atomic
def step_reject(*, actor: User, step: Step, comment: str, at: datetime | None = None) -> Step:
    at = at or timezone.now()
    if not (comment or "").strip():
        raise ValidationFailed(
            "Say why you reject it: the requester needs the reason.",
            code="comment_required",
            field_errors={"comment": ["A reason is required to reject."]},
        )
    step = _lock(step)
    _require_active(step, StepKind.APPROVAL)
    acted_for = _decider(actor, step)
    _close_step(step, state=StepState.REJECTED, actor=actor, acted_for=acted_for,
                comment=comment.strip(), at=at)
    request_close(request=step.request, state=RequestState.REJECTED, actor=actor, at=at)
    return step


@transaction.atomic
def step_record_outside_decision(*, actor: User, step: Step, reason: str, outcome: str = "approved",
                                 at: datetime | None = None) -> Step:
    """Record an approval decided outside the tool (by email, phone, in a meeting).

    Only ops leaders may, always with the reason; the step is marked ``decided_outside`` so
    the bypass is counted on change plans, never hidden. The request then moves on exactly as
    after ``step_approve`` / ``step_reject``.
    """
    at = at or timezone.now()
    outcomes = {"approved": StepState.APPROVED, "rejected": StepState.REJECTED}
    if outcome not in outcomes:
        raise ValidationFailed("The outcome is either approved or rejected.", code="invalid_outcome",
                               field_errors={"outcome": ["Choose approved or rejected."]})
    if not actor.is_ops_leader:
        raise NotAllowed("Only an ops leader can record a decision taken outside the tool.",
                         code="not_ops_leader")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say where and by whom it was decided (for example “approved by Hank by email on "
            "3 March”).",
            code="reason_required",
            field_errors={"reason": ["A reason is required."]},
        )
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.APPROVAL)
    if step.request.requester_id == actor.pk:
        raise NotAllowed("You cannot decide on your own request.", code="own_request")
    _close_step(step, state=outcomes[outcome], actor=actor, acted_for=None, comment=reason, at=at,
                outside=True)
    if outcome == "approved":
        request_advance(request=step.request, actor=actor, at=at)
    else:
        request_close(request=step.request, state=RequestState.REJECTED, actor=actor, at=at)
    return step


@transaction.atomic
def step_complete(*, actor: User, step: Step, note: str = "", at: datetime | None = None) -> Step:
    at = at or timezone.now()
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.EXECUTION)
    if not is_agent_of(actor, step.accountable_department_id):
        raise NotAllowed(
            f"Only agents of {step.accountable_department} can complete “{step.name}”.",
            code="not_agent",
        )
    _close_step(step, state=StepState.DONE, actor=actor, acted_for=None, comment=note.strip(), at=at)
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
        verb="step.claimed",
        target=step,
        correlation=step.request.reference,
        data={"step": step.name, "previous_assignee": previous.username if previous else None},
        at=at,
    )
    return step


@transaction.atomic
def request_cancel(*, actor: User, request: ServiceRequest, reason: str = "",
                   at: datetime | None = None) -> ServiceRequest:
    at = at or timezone.now()
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if request.state not in OPEN_STATES:
        raise Conflict(
            f"{request.reference} is already {request.get_state_display().lower()}.",
            code="request_closed",
        )
    if not request.can_cancel(actor):
        raise NotAllowed("Only the requester or an ops leader can cancel this request.",
                         code="not_requester")
    active = Step.objects.select_for_update().filter(request=request, state=StepState.ACTIVE).first()
    if active is not None:
        active.request = request
        _close_step(active, state=StepState.CANCELLED, actor=actor, acted_for=None,
                    comment=reason.strip(), at=at)
    request_close(request=request, state=RequestState.CANCELLED, actor=actor, at=at)
    return request


# --- Delegation ------------------------------------------------------------------------------
@transaction.atomic
def delegation_create(*, actor: User, delegate: User, starts_on: date, ends_on: date,
                      reason: str = "") -> Delegation:
    """``actor`` lets ``delegate`` decide their approvals from ``starts_on`` to ``ends_on``."""
    if delegate.pk == actor.pk:
        raise ValidationFailed("Choose someone other than yourself.", code="delegate_self",
                               field_errors={"delegate": ["Choose someone other than yourself."]})
    if not delegate.is_active:
        raise ValidationFailed(f"{delegate} cannot sign in, so cannot act for you.",
                               code="delegate_inactive")
    if ends_on < starts_on:
        raise ValidationFailed("The last day must be on or after the first day.",
                               code="dates_reversed",
                               field_errors={"ends_on": ["Must be on or after the first day."]})
    if ends_on < timezone.localdate():
        raise ValidationFailed("That period is already over.", code="dates_past",
                               field_errors={"ends_on": ["Must be today or later."]})
    # Lock the delegator's row so two overlapping delegations cannot be created at once.
    User.objects.select_for_update().get(pk=actor.pk)
    overlapping = Delegation.objects.filter(
        delegator=actor, ended_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).first()
    if overlapping is not None:
        raise Conflict(
            f"You already delegate to {overlapping.delegate} from {overlapping.starts_on} to "
            f"{overlapping.ends_on}. End that delegation first.",
            code="delegation_overlaps",
        )
    delegation = Delegation.objects.create(
        delegator=actor, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason
    )
    audit_record(
        actor=actor,
        verb="delegation.created",
        target=delegation,
        to_state="active",
        data={"delegate": delegate.username, "starts_on": starts_on, "ends_on": ends_on},
    )
    return delegation


@transaction.atomic
def delegation_end(*, actor: User, delegation: Delegation) -> Delegation:
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.delegator_id != actor.pk and not actor.is_superuser:
        raise NotAllowed("Only the person who delegated can end this delegation.",
                         code="not_delegator")
    if delegation.ended_at is not None:
        raise Conflict("This delegation has already ended.", code="delegation_ended")
    delegation.ended_at = timezone.now()
    delegation.save(update_fields=["ended_at"])
    audit_record(actor=actor, verb="delegation.ended", target=delegation,
                 from_state="active", to_state="ended")
    return delegation
