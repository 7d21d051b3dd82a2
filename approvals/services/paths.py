"""Building a request's path: one step per template, at submission or in a legacy import."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.db import connection
from django.utils.translation import gettext as _

from approvals.choices import Responsible, StepKind, StepState
from approvals.models import Step, StepTemplate
from approvals.services.steps import step_set_active, step_set_closed
from governance.errors import ValidationFailed
from governance.models import Department, User
from governance.selectors import stand_in_for
from governance.states import assert_transition
from kit.reads import instance_from, select_columns, width
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest


def steps_build(*, request: ServiceRequest, templates: list[StepTemplate],
                departments: dict[int, Department] | None = None,
                cost: Decimal | None | str = "estimated") -> list[Step]:
    """One unsaved step per template: pending where it applies, skipped where its condition
    (a cost threshold) does not hold. Approval steps never land on the requester: when the
    requester heads the department, the step goes up to the parent department's head.
    Callers save them (many requests' steps in one statement: the legacy import passes
    ``departments``, all of them with their heads, loaded once for the whole batch).
    ``cost``: the amount the conditions read (default: the request's estimated cost; the
    actual cost when it is recorded at fulfilment)."""
    if cost == "estimated":
        cost = request.estimated_cost
    steps = []
    approvers: set[int] = set()  # the people on the approval steps that apply so far
    if departments is None:
        departments = _departments_of(templates, request)
    for template in templates:
        department = departments[_responsible_department_id(template, request)]
        head = department.head
        if template.kind == StepKind.APPROVAL:
            department, head = _independent_approver(department, request.requester)
        if head is not None and not head.is_active:
            # The head left and nobody has been named yet: who stands in for them now.
            head = stand_in_for(department, absent=head, requester_id=(
                request.requester_id if template.kind == StepKind.APPROVAL else None))
        applies = template.applies_to(cost, request=request)
        if applies and head is None:
            raise ValidationFailed(
                _("%(department)s has no head to be accountable for “%(step)s”. "
                  "Ask an administrator to name one.") % {"department": department,
                                                          "step": template.name},
                code="no_accountable_head",
            )
        if applies and template.kind == StepKind.APPROVAL:
            if head.pk in approvers:
                head = _separate_approver(template, department, head, request, approvers)
            approvers.add(head.pk)
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
                assert_transition(step, StepState.CANCELLED)
                step.state = StepState.CANCELLED

    def done_state(step: Step) -> str:
        return StepState.APPROVED if step.kind == StepKind.APPROVAL else StepState.DONE

    if outcome in (RequestState.FULFILLED, RequestState.REJECTED, RequestState.CANCELLED):
        if outcome == RequestState.FULFILLED:
            sequence = [(s, done_state(s)) for s in live]
        elif outcome == RequestState.REJECTED:
            if approvals_first is None:
                raise ValidationFailed(_("This item's path has no approval step to reject."),
                                       code="no_approval_step")
            sequence = [(s, done_state(s)) for s in live[:approvals_first]]
            sequence.append((live[approvals_first], StepState.REJECTED))
        else:
            sequence = [(live[0], StepState.CANCELLED)] if live else []
        end = play(sequence, closed_at) if sequence else (closed_at or request.submitted_at)
        finish(closed_at or end, outcome)
        return None
    if outcome == RequestState.IN_PROGRESS:
        if execution_first is None:
            raise ValidationFailed(_("This item's path has no execution step to be in progress."),
                                   code="no_execution_step")
        at = play([(s, done_state(s)) for s in live[:execution_first]], None)
        current = live[execution_first]
    else:  # open / in_approval: waiting at its first step
        if not live:
            raise ValidationFailed(_("This item's path has no step that applies."), code="no_steps")
        if outcome == RequestState.IN_APPROVAL and live[0].kind != StepKind.APPROVAL:
            raise ValidationFailed(_("This item's path starts without an approval step."),
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


def path_for_submission(request: ServiceRequest) -> tuple[list[StepTemplate], dict[int, Department]]:
    """``request``'s path (its item's step templates, in order) and the departments it
    touches with their heads (``departments_for_path``). One statement on PostgreSQL, built
    once per process (a submission is the hottest write path); two queries elsewhere."""
    item = request.item
    if connection.vendor != "postgresql":
        templates = list(StepTemplate.objects.filter(path_id=item.path_id).order_by("order"))
        return templates, departments_for_path(templates, request)
    with connection.cursor() as cursor:
        cursor.execute(_path_statement(), [item.path_id, item.path_id,
                                           [item.fulfilling_department_id,
                                            request.requester_department_id]])
        rows = cursor.fetchall()
    templates, departments = [], {}
    nt, nd = width(StepTemplate), width(Department)
    for row in rows:
        if row[0] is not None:
            templates.append(instance_from(StepTemplate, row[:nt]))
            continue
        department = instance_from(Department, row[nt:nt + nd])
        head = row[nt + nd:]
        Department.head.field.set_cached_value(
            department, instance_from(User, head) if head[0] is not None else None)
        departments[department.pk] = department
    templates.sort(key=lambda t: t.order)
    return templates, departments


@lru_cache(maxsize=1)
def _path_statement() -> str:
    quote = connection.ops.quote_name
    templates, departments, users = (quote(m._meta.db_table)
                                     for m in (StepTemplate, Department, User))
    blank = {m: ", ".join(["NULL"] * width(m)) for m in (StepTemplate, Department, User)}
    return f"""
        SELECT {select_columns(StepTemplate, "t")}, {blank[Department]}, {blank[User]}
        FROM {templates} t WHERE t.path_id = %s
        UNION ALL
        SELECT {blank[StepTemplate]}, {select_columns(Department, "d")},
            {select_columns(User, "u")}
        FROM {departments} d LEFT JOIN {users} u ON u.id = d.head_id
        WHERE d.id IN (SELECT department_id FROM {templates} WHERE path_id = %s)
            OR d.id = ANY(%s)"""


def departments_for_path(templates: list[StepTemplate], request: ServiceRequest) -> dict[int, Department]:
    """The departments ``request``'s path touches, the item's fulfilling department (its
    calendar sets the request's due time) and the requester's, each with its head, in one
    query."""
    ids = {_responsible_department_id(t, request) for t in templates}
    ids.add(request.item.fulfilling_department_id)
    ids.add(request.requester_department_id)
    return Department.objects.select_related("head").in_bulk(ids)


def _separate_approver(template: StepTemplate, department: Department, head: User,
                       request: ServiceRequest, approvers: set[int]) -> User:
    """Separation of duties (``approvals.services.separation``): ``head`` is already on an
    earlier approval step of this request, so the next who may stand in for ``department``
    decides this one (its deputy, else the head above), or the submission is refused naming
    what to configure."""
    stand_in = stand_in_for(department, absent=head, requester_id=request.requester_id,
                            excluded_ids=approvers)
    if stand_in is None:
        raise ValidationFailed(
            _("“%(step)s” would go to %(head)s, who already approves an earlier step of this "
              "request, and nobody else can decide it for %(department)s: nobody decides two "
              "approval steps of one request. Ask an administrator to name a deputy for "
              "%(department)s (or a parent department with another head).") % {
                "step": template.name, "head": head, "department": department},
            code="no_separate_approver",
        )
    return stand_in


def _independent_approver(department: Department, requester: User) -> tuple[Department, User | None]:
    seen = set()
    while department.head_id == requester.pk:
        if department.parent_id is None or department.pk in seen:
            raise ValidationFailed(
                _("You head %(department)s and it has no parent department, so nobody "
                  "independent can approve your request. Ask an administrator to set a parent "
                  "department.") % {"department": department},
                code="no_independent_approver",
            )
        seen.add(department.pk)
        department = department.parent
    return department, department.head
