"""One state machine per model, declared next to its choices and checked by one helper."""

from __future__ import annotations

import pytest

from accountability.choices import (
    IMPORT_MACHINE,
    PLAN_CLOSED_STATES,
    PLAN_MACHINE,
    PLAN_OPEN_STATES,
)
from accountability.models import ChangePlan, ImportJob
from approvals.choices import STEP_CLOSED_STATES, STEP_MACHINE, STEP_OPEN_STATES, StepState
from approvals.models import Step
from governance.errors import Conflict
from governance.states import assert_transition, can_transition, sql_values
from kit.errors import ErrorCode
from requests_app.choices import CLOSED_STATES, OPEN_STATES, REQUEST_MACHINE, RequestState
from requests_app.models import ServiceRequest

MACHINES = [(ServiceRequest, REQUEST_MACHINE, OPEN_STATES, CLOSED_STATES),
            (Step, STEP_MACHINE, STEP_OPEN_STATES, STEP_CLOSED_STATES),
            (ChangePlan, PLAN_MACHINE, PLAN_OPEN_STATES, PLAN_CLOSED_STATES)]


@pytest.mark.parametrize(("model", "machine", "open_states", "closed_states"), MACHINES)
def test_every_state_is_open_or_closed_and_closed_states_are_final(model, machine, open_states,
                                                                   closed_states):
    assert model.STATE_MACHINE is machine
    assert open_states | closed_states == set(machine.choices.values)
    assert not open_states & closed_states
    assert closed_states == machine.terminal
    for state in closed_states:
        assert not machine.targets(state)


def test_a_move_the_table_does_not_allow_is_a_conflict_naming_the_states():
    request = ServiceRequest(reference="SR-2026-000001", title="Laptop",
                             state=RequestState.FULFILLED)
    assert not can_transition(request, RequestState.CANCELLED)
    with pytest.raises(Conflict) as refused:
        assert_transition(request, RequestState.CANCELLED)
    assert refused.value.status == 409
    assert refused.value.code == ErrorCode.REQUEST_CLOSED
    assert "is fulfilled; it cannot become cancelled" in refused.value.message


def test_steps_move_only_forward():
    step = Step(name="Head approval", state=StepState.PENDING)
    assert can_transition(step, StepState.ACTIVE)
    assert not can_transition(step, StepState.APPROVED)  # a pending step is not decided
    step.state = StepState.APPROVED
    with pytest.raises(Conflict) as refused:
        assert_transition(step, StepState.ACTIVE)
    assert refused.value.code == ErrorCode.STEP_NOT_ACTIVE


def test_import_progress_updates_only_from_a_state_that_may_move_there():
    assert IMPORT_MACHINE.sources("importing") == {"validating", "importing"}
    assert ImportJob.STATE_MACHINE is IMPORT_MACHINE


def test_groups_reach_sql_as_parameters():
    assert sql_values(OPEN_STATES) == ["in_approval", "in_progress"]
    assert all(type(v) is str for v in sql_values(CLOSED_STATES))
