"""The one helper every state machine of SRM goes through.

Each app declares its machines next to their choices (``requests_app.choices.REQUEST_MACHINE``,
``approvals.choices.STEP_MACHINE``, ``accountability.choices.PLAN_MACHINE`` …): the states,
the states a row may be created in, the moves allowed from each state, and named groups
(``OPEN_STATES``, ``CLOSED_STATES``). Then:

- services call ``assert_transition(obj, to)`` before every assignment of a state, so a move
  the table does not allow is a ``Conflict`` (HTTP 409), never a silent write;
- models answer ``can_<action>(user)`` for templates and the API from ``can_transition``;
- SQL reads a group as parameters (``sql_values(OPEN_STATES)``), never as literals.

A machine is registered by the model that carries it (``STATE_MACHINE`` on the model class),
so ``assert_transition(step, StepState.DONE)`` finds the table and the current state itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

from django.db import models

from kit.errors import Conflict, ErrorCode


class StateMachine:
    """The states of one model's ``field``, the states a row starts in, and the allowed
    moves. ``conflict_code``: the error code of a refused move."""

    def __init__(self, *, name: str, choices: type[models.TextChoices], field: str,
                 initial: Iterable[str], transitions: Mapping[str, Iterable[str]],
                 conflict_code: ErrorCode = ErrorCode.INVALID_TRANSITION):
        self.name = name
        self.choices = choices
        self.field = field
        self.initial = frozenset(initial)
        self.transitions = {state: frozenset(targets) for state, targets in transitions.items()}
        self.conflict_code = conflict_code
        known = set(choices.values)
        for state, targets in self.transitions.items():
            unknown = ({state} | targets | self.initial) - known
            if unknown:
                raise ValueError(f"{name}: unknown states {sorted(unknown)}")

    def __repr__(self) -> str:
        return f"<StateMachine {self.name}>"

    @property
    def terminal(self) -> frozenset[str]:
        """States no move leaves."""
        return frozenset(self.choices(s) for s in self.choices.values if not self.transitions.get(s))

    def group(self, *states: str) -> frozenset[str]:
        """A named group of states (``OPEN_STATES = MACHINE.group(...)``), checked here."""
        unknown = set(states) - set(self.choices.values)
        if unknown:
            raise ValueError(f"{self.name}: unknown states {sorted(unknown)}")
        return frozenset(self.choices(s) for s in states)

    def can(self, from_state: str, to_state: str) -> bool:
        return to_state in self.transitions.get(from_state, frozenset())

    def targets(self, from_state: str) -> frozenset[str]:
        return self.transitions.get(from_state, frozenset())

    def sources(self, to_state: str) -> frozenset[str]:
        """The states a row may be in to move to ``to_state``: for conditional updates
        (``filter(status__in=MACHINE.sources(to)).update(status=to)``)."""
        return frozenset(s for s, targets in self.transitions.items() if to_state in targets)

    def label(self, state: str) -> str:
        try:
            return str(self.choices(state).label).lower()
        except ValueError:
            return str(state)


def machine_of(obj_or_machine) -> StateMachine:
    if isinstance(obj_or_machine, StateMachine):
        return obj_or_machine
    machine = getattr(obj_or_machine, "STATE_MACHINE", None)
    if machine is None:
        raise TypeError(f"{type(obj_or_machine).__name__} declares no STATE_MACHINE")
    return machine


def can_transition(obj_or_machine, to_state: str, *, from_state: str | None = None) -> bool:
    """May ``obj`` (or a row of ``machine`` in ``from_state``) move to ``to_state``?"""
    machine = machine_of(obj_or_machine)
    if from_state is None:
        from_state = getattr(obj_or_machine, machine.field)
    return machine.can(from_state, to_state)


def assert_transition(obj_or_machine, to_state: str, *, from_state: str | None = None,
                      what: str = "") -> None:
    """Refuse (``Conflict``, 409) a move the machine does not allow. Call it before assigning
    the state; ``what`` names the object in the message (defaults to ``str(obj)``)."""
    machine = machine_of(obj_or_machine)
    if from_state is None:
        from_state = getattr(obj_or_machine, machine.field)
    if machine.can(from_state, to_state):
        return
    what = what or (str(obj_or_machine) if not isinstance(obj_or_machine, StateMachine)
                    else f"The {machine.name}")
    raise Conflict(
        f"“{what}” is {machine.label(from_state)}; it cannot become "
        f"{machine.label(to_state)}.",
        code=machine.conflict_code,
    )


def assert_initial(obj_or_machine, state: str | None = None) -> None:
    """Refuse to create a row in a state it may not start in (a programming error)."""
    machine = machine_of(obj_or_machine)
    if state is None:
        state = getattr(obj_or_machine, machine.field)
    if state not in machine.initial:
        raise ValueError(f"A {machine.name} cannot start {state!r}")


def sql_values(states: Iterable[str]) -> list[str]:
    """A group of states as plain strings, sorted, for SQL parameters
    (``WHERE state = ANY(%s)`` / ``IN (%s, %s)``) and migrations."""
    return sorted(s.value if isinstance(s, Enum) else str(s) for s in states)


def sql_placeholders(states: Iterable[str]) -> str:
    """``%s, %s, …`` for the ``IN (…)`` of ``sql_values(states)``."""
    return ", ".join(["%s"] * len(list(states)))
