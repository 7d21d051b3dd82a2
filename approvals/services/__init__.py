"""The only code that moves steps, one module per subject. Each action locks the request row
first (then the step), checks its precondition, changes state, writes its audit event and
emits its domain event, all in one transaction, so two people clicking at once cannot both win.

- ``paths``: building a request's path (one step per template) at submission or import.
- ``flow``: moving a request along it (handoff, fulfil, close, cancel).
- ``steps``: the primitives every action shares (lock, require active, close).
- ``deciders``: who may decide an approval step.
- ``decisions``: approve, reject, record a decision taken outside the tool.
- ``execution``: claim, take over and complete execution steps.
- ``holds``: “more information needed” (the step waits for the requester).
- ``delegations``: a head lets someone decide for them for a date range.
- ``reassign``: open steps move to whoever is accountable now (a head change, a leaver).

Callers import the actions from here (``from approvals.services import step_approve``).
"""

from approvals.services.deciders import decider_refusal
from approvals.services.decisions import step_approve, step_record_outside_decision, step_reject
from approvals.services.delegations import delegation_create, delegation_end
from approvals.services.execution import step_claim, step_complete, step_take_over
from approvals.services.flow import request_advance, request_cancel, request_close, request_start
from approvals.services.holds import (
    hold_expire,
    hold_remind,
    holds_process_due,
    step_answer,
    step_hold,
)
from approvals.services.paths import (
    departments_for_path,
    path_for_submission,
    steps_build,
    steps_replay,
)
from approvals.services.steps import due_after_hold, hold_end, step_set_active, step_set_closed

__all__ = [
    "decider_refusal", "delegation_create", "delegation_end", "departments_for_path", "due_after_hold", "hold_end", "hold_expire",
    "hold_remind", "holds_process_due", "path_for_submission", "request_advance", "request_cancel", "request_close",
    "request_start", "step_answer", "step_approve", "step_claim", "step_complete", "step_hold",
    "step_record_outside_decision", "step_reject", "step_set_active", "step_set_closed",
    "step_take_over", "steps_build", "steps_replay",
]
