"""Open steps follow the organisation: when who answers for them changes, they move.

A step's ``accountable_head`` is the person accountable for it *now*, never a name frozen at
submission. The organisation core announces its changes (``governance.signals``); the
receivers here move every open step (pending or active) it concerns in the same
transaction — locked request first, then step, as every step action does — write one
``step.reassigned`` audit event per step, and send ``steps_reassigned`` so accountability
charges the delay from then on to the new head and tells them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from approvals.choices import (
    DECISIONS,
    STEP_OPEN_STATES,
    ReassignReason,
    ReleaseReason,
    StepKind,
    StepState,
)
from approvals.models import Delegation, Step
from approvals.services.delegations import delegations_end_for
from approvals.services.paths import _independent_approver
from approvals.signals import steps_reassigned, steps_released
from governance.choices import AuditVerb
from governance.errors import ValidationFailed
from governance.models import Department, User
from governance.selectors import stand_in_for
from governance.services.audit import audit_build, audit_save
from requests_app.models import ServiceRequest

BATCH = 2000


@dataclass(frozen=True)
class Move:
    """``step`` (saved, with its new department and head) was accountable to ``from_head``."""

    step: Step
    from_head: User | None
    from_department_id: int

    @property
    def to_head(self) -> User:
        return self.step.accountable_head


def _lock_open_steps(where: Q) -> list[Step]:
    """The open steps matching ``where``, locked: their requests first (in id order), then
    the steps, so this never deadlocks with a decision on one of them."""
    open_steps = Step.objects.filter(where, state__in=STEP_OPEN_STATES)
    requests = {r.pk: r for r in ServiceRequest.objects.select_for_update()
                .filter(pk__in=open_steps.values("request_id")).order_by("pk")}
    steps = list(open_steps.select_for_update(of=("self",))
                 .select_related("accountable_department", "accountable_head")
                 .order_by("request_id", "order"))
    for step in steps:
        step.request = requests[step.request_id]
    return steps


def _approval_paths(steps: list[Step]) -> dict[int, list[Step]]:
    """For each request of ``steps``, its approval steps that apply (not skipped or
    cancelled), with the locked ``steps`` themselves in place of fresh copies, so a move
    earlier in the batch is seen by the checks of the later ones."""
    locked = {step.pk: step for step in steps}
    paths: dict[int, list[Step]] = {}
    rows = (Step.objects.filter(request_id__in={s.request_id for s in steps},
                                kind=StepKind.APPROVAL)
            .exclude(state__in=(StepState.SKIPPED, StepState.CANCELLED)).order_by("order"))
    for row in rows:
        paths.setdefault(row.request_id, []).append(locked.get(row.pk, row))
    return paths


def _people_on(step: Step) -> set[int]:
    """Who takes part in an approval step: whoever decided it (and for whom), else whoever
    it is accountable to."""
    if step.state in DECISIONS and not step.decided_outside:
        return {pk for pk in (step.decided_by_id, step.acted_for_id) if pk}
    if step.state in DECISIONS:
        return set()
    return {step.accountable_head_id} if step.accountable_head_id else set()


def _separate(step: Step, department: Department, head: User, paths: dict[int, list[Step]]
              ) -> User:
    """Separation of duties (``approvals.services.separation``): an approval step does not
    move to someone already on another approval step of its request; it goes to who stands
    in for the department (its deputy, else the head above) — or the change is refused,
    naming what to configure."""
    if step.kind != StepKind.APPROVAL:
        return head
    others = set().union(*(_people_on(s) for s in paths.get(step.request_id, ())
                           if s.pk != step.pk))
    if head.pk not in others:
        return head
    stand_in = stand_in_for(department, absent=head, requester_id=step.request.requester_id,
                            excluded_ids=others)
    if stand_in is None:
        raise ValidationFailed(
            _("“%(step)s” on %(reference)s would go to %(head)s, who is already on another "
              "approval step of that request, and nobody else can decide it for "
              "%(department)s: nobody decides two approval steps of one request. Name a deputy "
              "for %(department)s (or a parent department with another head) first.") % {
                "step": step.name, "reference": step.request.reference, "head": head,
                "department": department},
            code="no_separate_approver")
    return stand_in


def _move(steps: list[Step], *, to: Callable[[Step], tuple[Department, User]],
          reason: ReassignReason, actor: User | None, at: datetime) -> list[Move]:
    moves, events, requests = [], [], []
    paths = _approval_paths(steps)
    for step in steps:
        department, head = to(step)
        head = _separate(step, department, head, paths)
        if step.accountable_head_id == head.pk and step.accountable_department_id == department.pk:
            continue
        moves.append(Move(step=step, from_head=step.accountable_head,
                          from_department_id=step.accountable_department_id))
        old = step.accountable_head
        step.accountable_department, step.accountable_head = department, head
        if step.state == StepState.ACTIVE and step.request.accountable_department_id != department.pk:
            step.request.accountable_department = department
            requests.append(step.request)
        events.append(audit_build(
            actor=actor, verb=AuditVerb.STEP_REASSIGNED, target=step,
            from_state=old.username if old else "", to_state=head.username,
            correlation=step.request.reference, at=at,
            data={"step": step.name, "reason": str(reason), "department": department.code,
                  "state": step.state},
        ))
    if not moves:
        return []
    Step.objects.bulk_update([m.step for m in moves],
                             ["accountable_department", "accountable_head"], batch_size=BATCH)
    if requests:
        ServiceRequest.objects.bulk_update(requests, ["accountable_department"], batch_size=BATCH)
    audit_save(events)
    steps_reassigned.send(sender=Step, moves=moves, reason=reason, actor=actor, at=at)
    return moves


def steps_follow_head(*, department: Department, new_head: User, actor: User | None,
                      at: datetime) -> list[Move]:
    """Move every open step of ``department`` to its new head. An approval on the new head's
    own request goes up to the parent department's head instead: nobody decides their own
    request (as at submission)."""

    def to(step: Step) -> tuple[Department, User]:
        if step.kind == StepKind.APPROVAL and step.request.requester_id == new_head.pk:
            above, head = _independent_approver(department, new_head)
            if head is None:
                raise ValidationFailed(
                    _("%(head)s has an open request waiting in %(department)s, and %(above)s "
                      "has no head to decide it instead. Name a head there first.") % {
                        "head": new_head, "department": department, "above": above},
                    code="no_accountable_head")
            return above, head
        return department, new_head

    steps = _lock_open_steps(Q(accountable_department=department))
    return _move(steps, to=to, reason=ReassignReason.HEAD_CHANGED, actor=actor, at=at)


def on_department_head_changed(sender, *, department, old_head, new_head, actor, at,
                               **kwargs) -> None:
    steps_follow_head(department=department, new_head=new_head, actor=actor, at=at)


def steps_leave(*, user: User, actor: User | None, at: datetime) -> list[Move]:
    """``user`` left: each open step accountable to them goes to their active delegate, else
    to the step's department's deputy, else to the head of the department above (never to
    the step's requester, for an approval); then their delegations end. Refused
    (``no_successor``) when some step has nobody to go to."""
    delegate = (Delegation.objects.active().filter(delegator=user, delegate__is_active=True)
                .select_related("delegate").order_by("-starts_on", "-pk").first())

    def to(step: Step) -> tuple[Department, User]:
        department = step.accountable_department
        requester_id = step.request.requester_id if step.kind == StepKind.APPROVAL else None
        if delegate is not None and delegate.delegate_id != requester_id:
            return department, delegate.delegate
        stand_in = stand_in_for(department, absent=user, requester_id=requester_id)
        if stand_in is None:
            raise ValidationFailed(
                _("Nobody can take over “%(step)s” on %(reference)s from %(user)s: "
                  "%(department)s has no deputy and no department above it with a head. Name a "
                  "deputy or a new head of %(department)s first.") % {
                    "step": step.name, "reference": step.request.reference, "user": user,
                    "department": department},
                code="no_successor")
        return department, stand_in

    steps = _lock_open_steps(Q(accountable_head=user))
    moves = _move(steps, to=to, reason=ReassignReason.LEAVER, actor=actor, at=at)
    delegations_end_for(user=user, actor=actor, at=at)
    return moves


def on_user_deactivated(sender, *, user, actor, at, **kwargs) -> None:
    steps_leave(user=user, actor=actor, at=at)
    # Work a leaver had taken on waits in its queue for a colleague, not for them.
    steps_release(user=user, department=None, reason=ReleaseReason.LEFT, actor=actor, at=at)


def steps_release(*, user: User, department: Department | None, reason: ReleaseReason,
                  actor: User | None, at: datetime) -> list[Step]:
    """``user`` is no longer an agent of ``department`` (they moved; None: of any department,
    they left): the open execution steps there they had taken on go back to its queue, for a
    colleague to take on; one ``step.released`` audit event each, then ``steps_released``
    so the department's head and the person are told."""
    where = Q(assignee=user, kind=StepKind.EXECUTION)
    if department is not None:
        where &= Q(accountable_department=department)
    steps = _lock_open_steps(where)
    if not steps:
        return []
    for step in steps:
        step.assignee = None
    Step.objects.bulk_update(steps, ["assignee"], batch_size=BATCH)
    audit_save([audit_build(
        actor=actor, verb=AuditVerb.STEP_RELEASED, target=step,
        from_state=user.username, to_state="", correlation=step.request.reference, at=at,
        data={"step": step.name, "department": step.accountable_department.code,
              "previous_assignee": user.username, "reason": str(reason)},
    ) for step in steps])
    steps_released.send(sender=Step, user=user, steps=steps, reason=reason, actor=actor, at=at)
    return steps


def on_user_moved(sender, *, user, old_department, new_department, actor, at, **kwargs) -> None:
    if old_department is not None:
        steps_release(user=user, department=old_department, reason=ReleaseReason.MOVED,
                      actor=actor, at=at)
