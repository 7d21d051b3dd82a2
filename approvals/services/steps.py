"""The primitives every step action shares: lock the request then the step, check the step
is active, close it (ending an open hold) with its audit event and domain event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from approvals.choices import DecisionChannel, StepKind, StepState
from approvals.models import Step, StepHold, StepTemplate
from approvals.signals import step_closed
from governance.choices import AuditVerb
from governance.errors import AlreadyDecided, Conflict, ValidationFailed
from governance.models import Department, User
from governance.services.audit import audit_build, audit_save
from governance.states import assert_transition
from kit.reads import instance_from, select_columns, width
from requests_app.models import CatalogItem, ServiceRequest

_STEP_FIELDS_ON_CLOSE = ["state", "completed_at", "decided_by", "acted_for", "comment",
                         "on_hold_since", "decided_outside", "due_at", "channel"]


# Facts about each step that the lock reads in the same statement, by annotation name
# (subscribers register them at start-up, as ``accountability.wiring`` registers whether the
# step has an open delay risk): what the receivers of ``step_closed`` would otherwise ask in
# a statement of their own.
_LOCK_FACTS: dict[str, Callable[[], Any]] = {}


def register_lock_fact(name: str, expression: Callable[[], Any]) -> None:
    """Have ``_lock`` annotate each step it locks with ``expression()`` as ``name``."""
    _LOCK_FACTS[name] = expression


def step_set_active(step: Step, *, at: datetime) -> None:
    """Activate ``step`` in memory: its clock starts at ``at``, due after its OLA in the
    accountable department's business time. The caller saves it."""
    assert_transition(step, StepState.ACTIVE)
    step.state = StepState.ACTIVE
    step.activated_at = at
    step.due_at = step.accountable_department.calendar.add(at, step.ola_hours)


def step_set_closed(step: Step, *, state: str, actor: User | None, acted_for: User | None = None,
                    comment: str = "", at: datetime, outside: bool = False,
                    channel: str = "") -> None:
    """Close ``step`` in memory (approved, rejected, done or cancelled). The caller saves it.
    ``channel``: where a person decided it (``DecisionChannel``), only for decisions."""
    assert_transition(step, state)
    step.state = state
    step.completed_at = at
    step.decided_by = actor
    step.acted_for = acted_for
    step.comment = comment
    step.decided_outside = outside
    step.channel = channel


def _lock(step: Step, *, with_pending: bool = False) -> Step:
    """Lock the step's request, then the step, and return the fresh step (request attached).
    Locking in that order everywhere keeps concurrent actions on one request deadlock-free.

    ``with_pending``: for actions that then move the request on, all the request's steps
    are read (and locked) in the same statement, and the requester, their department and the
    item with the request, so what follows asks no query to find the next step
    (``request_advance``), an earlier decision (``approvals.services.separation``) or what
    the notices say (``request._srm_steps``, in order; ``request._srm_pending_steps``, the
    pending ones)."""
    if connection.vendor == "postgresql":
        return _lock_pg(step, with_pending=with_pending)
    requests = ServiceRequest.objects.select_for_update(of=("self",))
    if with_pending:
        requests = requests.select_related("requester", "requester_department", "item")
    request = requests.get(pk=step.request_id)
    locked = Step.objects.select_for_update(of=("self",)).select_related(
        "template", "accountable_department", "accountable_head")
    if _LOCK_FACTS:
        locked = locked.annotate(**{name: fact() for name, fact in _LOCK_FACTS.items()})
    if not with_pending:
        fresh = locked.get(pk=step.pk)
    else:
        rows = list(locked.filter(request_id=step.request_id).order_by("order"))
        fresh = next((row for row in rows if row.pk == step.pk), None)
        if fresh is None:
            raise Step.DoesNotExist("Step matching query does not exist.")
        for row in rows:
            row.request = request
        request._srm_steps = rows
        request._srm_pending_steps = [row for row in rows if row.state == StepState.PENDING]
    fresh.request = request
    return fresh


def _lock_pg(step: Step, *, with_pending: bool) -> Step:
    """``_lock`` on PostgreSQL: the same two statements and rows, built once per process
    (through the ORM they cost more CPU to build than to run)."""
    request_sql, steps_sql, fact_params = _lock_statements(
        with_pending, tuple((name, id(fact)) for name, fact in _LOCK_FACTS.items()))
    with connection.cursor() as cursor:
        cursor.execute(request_sql, [step.request_id])
        row = cursor.fetchone()
        if row is None:
            raise ServiceRequest.DoesNotExist("ServiceRequest matching query does not exist.")
        cursor.execute(steps_sql, [*fact_params, step.request_id if with_pending else step.pk])
        rows = cursor.fetchall()
    nr = width(ServiceRequest)
    request = instance_from(ServiceRequest, row[:nr])
    if with_pending:
        at = nr
        for field, model in _REQUEST_RELATED:
            field.set_cached_value(request, instance_from(model, row[at:at + width(model)]))
            at += width(model)
    locked = [_locked_step(row, request) for row in rows]
    if with_pending:
        fresh = next((row for row in locked if row.pk == step.pk), None)
    else:
        fresh = locked[0] if locked else None
    if fresh is None:
        raise Step.DoesNotExist("Step matching query does not exist.")
    if with_pending:
        request._srm_steps = locked
        request._srm_pending_steps = [row for row in locked if row.state == StepState.PENDING]
    return fresh


_REQUEST_RELATED = ((ServiceRequest.requester.field, User),
                    (ServiceRequest.requester_department.field, Department),
                    (ServiceRequest.item.field, CatalogItem))
_STEP_RELATED = ((Step.template.field, StepTemplate),
                 (Step.accountable_department.field, Department),
                 (Step.accountable_head.field, User))


def _locked_step(row, request: ServiceRequest) -> Step:
    at = width(Step)
    step = instance_from(Step, row[:at])
    for field, model in _STEP_RELATED:
        values = row[at:at + width(model)]
        field.set_cached_value(step, instance_from(model, values)
                               if values[0] is not None else None)
        at += width(model)
    for name, value in zip(_LOCK_FACTS, row[at:], strict=True):
        setattr(step, name, value)
    step.request = request
    return step


@lru_cache(maxsize=8)
def _lock_statements(with_pending: bool, facts: tuple) -> tuple[str, str, list]:
    """The request's lock (with its requester, their department and the item for
    ``with_pending``) and the steps' (one step, or all the request's in order), with the
    registered facts compiled once (``register_lock_fact``)."""
    quote = connection.ops.quote_name
    table = {m: quote(m._meta.db_table) for m in (ServiceRequest, Step, StepTemplate,
                                                   Department, User, CatalogItem)}
    request_columns = [select_columns(ServiceRequest, "r")]
    joins = []
    if with_pending:
        for n, (field, model) in enumerate(_REQUEST_RELATED):
            request_columns.append(select_columns(model, f"r{n}"))
            joins.append(f"JOIN {table[model]} r{n} ON r{n}.id = r.{quote(field.column)}")
    request_sql = (f"SELECT {', '.join(request_columns)} FROM {table[ServiceRequest]} r "
                   f"{' '.join(joins)} WHERE r.id = %s FOR UPDATE OF r")
    # The facts refer to the step's table by its name, as the ORM writes them: no alias.
    query = Step.objects.annotate(**{name: _LOCK_FACTS[name]() for name, _id in facts}).query
    compiler = query.get_compiler(connection=connection)
    fact_sql, fact_params = [], []
    for name, _id in facts:
        sql, params = compiler.compile(query.annotations[name])
        fact_sql.append(sql)
        fact_params.extend(params)
    steps = table[Step]
    step_columns = [select_columns(Step, steps)]
    joins = []
    for n, (field, model) in enumerate(_STEP_RELATED):
        step_columns.append(select_columns(model, f"s{n}"))
        outer = "LEFT JOIN" if field.null else "JOIN"
        joins.append(f"{outer} {table[model]} s{n} ON s{n}.id = {steps}.{quote(field.column)}")
    where = (f"{steps}.{quote('request_id')} = %s ORDER BY {steps}.{quote('order')}"
             if with_pending else f"{steps}.id = %s")
    steps_sql = (f"SELECT {', '.join(step_columns + fact_sql)} FROM {steps} {' '.join(joins)} "
                 f"WHERE {where} FOR UPDATE OF {steps}")
    return request_sql, steps_sql, fact_params


def _require_active(step: Step, kind: str) -> None:
    if step.state != StepState.ACTIVE:
        if step.is_decided:
            names = {"step": step.name, "reference": step.request.reference,
                     "state": step.get_state_display().lower(), "decider": step.decided_by}
            raise AlreadyDecided(
                (_("“%(step)s” on %(reference)s was already %(state)s by %(decider)s.")
                 if step.decided_by_id else
                 _("“%(step)s” on %(reference)s was already %(state)s.")) % names
            )
        raise Conflict(
            _("“%(step)s” on %(reference)s is %(state)s, not waiting for anyone.") % {
                "step": step.name, "reference": step.request.reference,
                "state": step.get_state_display().lower()},
            code="step_not_active",
        )
    if step.kind != kind:
        raise ValidationFailed(
            (_("“%(step)s” is an approval step.") if step.kind == StepKind.APPROVAL
             else _("“%(step)s” is an execution step.")) % {"step": step.name},
            code="wrong_step_kind"
        )


def channel_data(channel: str, message_id: str = "") -> dict:
    """What an audit event of a decision (or a decider's question) says about where it was
    taken: the channel, and for e-mail the Message-ID of the mail it came through."""
    if channel not in DecisionChannel.values:
        raise ValueError(f"Unknown decision channel {channel!r}")
    data = {"channel": channel}
    if message_id:
        data["message_id"] = message_id
    return data


def _close_step(step: Step, *, state: str, actor: User, acted_for: User | None, comment: str,
                at: datetime, outside: bool = False, channel: str = "",
                message_id: str = "") -> None:
    where = channel_data(channel, message_id) if channel else {}
    old_state = step.state
    if step.on_hold_since is not None:
        _hold_end_with_step(step, at)
    step_set_closed(step, state=state, actor=actor, acted_for=acted_for, comment=comment, at=at,
                    outside=outside, channel=channel)
    data = {"step": step.name, "comment": comment} if comment else {"step": step.name}
    if outside:
        data["decided_outside"] = True
    data.update(where)
    # The step and its audit event in one statement.
    audit_save([audit_build(
        actor=actor,
        on_behalf_of=acted_for,
        verb=AuditVerb.of("step", state),
        target=step,
        from_state=old_state,
        to_state=state,
        correlation=step.request.reference,
        data=data,
        at=at,
    )], updates=[(step, _STEP_FIELDS_ON_CLOSE)])
    step_closed.send(sender=Step, step=step, at=at)


def _hold_end_with_step(step: Step, at: datetime) -> None:
    """A step that closes while waiting for the requester (decided anyway, or the request
    cancelled) ends its open question; the time on hold stays the requester's."""
    hold = StepHold.objects.select_for_update().filter(step=step).open().first()
    if hold is not None:
        hold_end(step=step, hold=hold, at=at)
    step.on_hold_since = None


def hold_end(*, step: Step, hold, at: datetime) -> None:
    """End an open hold without an answer. Exactly as an answer would, the requester's time
    is taken out of the department's (``due_after_hold``). The caller saves the step."""
    hold.step = step
    hold.cancelled_at = at
    hold.business_hours = hold.business_hours_until(at)
    hold.save(update_fields=["cancelled_at", "business_hours"])
    step.due_at = due_after_hold(step=step, hold=hold, at=at)
    step.on_hold_since = None


def due_after_hold(*, step: Step, hold, at: datetime) -> datetime | None:
    """The step's due time once ``hold`` ends at ``at``.

    A hold stops the step's clock from the moment it starts. If the step still had OLA left
    then, the due time moves later by the business time on hold (exact, in real time). If it
    was already overdue, nothing moves: the overdue time that passed before the hold stays
    where it passed, and the delay ledger leaves the time on hold out (DESIGN.md,
    "Definitions"; docs/accountability.md)."""
    if step.due_at is None or hold.started_at >= step.due_at:
        return step.due_at
    calendar = step.accountable_department.calendar
    return calendar.add(step.due_at, calendar.between(hold.started_at, at))
