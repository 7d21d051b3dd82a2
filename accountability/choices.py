"""Choices and state groups of change plans, legacy workflows and import jobs."""

from django.db import models

from governance.states import StateMachine
from kit.errors import ErrorCode


# --- Change plans ----------------------------------------------------------------------------
class PlanStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    LIVE = "live", "Live"
    VALUE_REALIZED = "value_realized", "Value realized"
    ABANDONED = "abandoned", "Abandoned"


# The one place that says which moves a change plan may make.
PLAN_MACHINE = StateMachine(
    name="change plan",
    choices=PlanStatus,
    field="status",
    initial={PlanStatus.PLANNING},
    transitions={
        PlanStatus.PLANNING: {PlanStatus.LIVE, PlanStatus.ABANDONED},
        PlanStatus.LIVE: {PlanStatus.VALUE_REALIZED, PlanStatus.ABANDONED},
    },
    conflict_code=ErrorCode.PLAN_WRONG_STATUS,
)
PLAN_OPEN_STATES = PLAN_MACHINE.group(PlanStatus.PLANNING, PlanStatus.LIVE)
PLAN_CLOSED_STATES = PLAN_MACHINE.terminal


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SPREADSHEET = "spreadsheet", "Spreadsheet"
    CHAT = "chat", "Chat"
    PAPER = "paper", "Paper"
    OTHER_SYSTEM = "other_system", "Other system"


class WorkflowDecision(models.TextChoices):
    RETIRE = "retire", "Retire"
    KEEP = "keep", "Keep"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Checking every row"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Done"
    REJECTED = "rejected", "Rejected: the file has errors"
    FAILED = "failed", "Failed"


# An import is checked in full, then imported; a dry run stops after the check. A job the
# worker restarts is checked again from the start.
IMPORT_MACHINE = StateMachine(
    name="import",
    choices=ImportStatus,
    field="status",
    initial={ImportStatus.QUEUED},
    transitions={
        ImportStatus.QUEUED: {ImportStatus.VALIDATING, ImportStatus.REJECTED, ImportStatus.FAILED},
        # Back to QUEUED: the reaper re-queues a job whose worker died (stale heartbeat);
        # back to VALIDATING: a redelivered task takes such a job over and checks it again.
        ImportStatus.VALIDATING: {ImportStatus.QUEUED, ImportStatus.VALIDATING,
                                  ImportStatus.IMPORTING, ImportStatus.DONE,
                                  ImportStatus.REJECTED, ImportStatus.FAILED},
        ImportStatus.IMPORTING: {ImportStatus.QUEUED, ImportStatus.VALIDATING,
                                 ImportStatus.IMPORTING, ImportStatus.DONE,
                                 ImportStatus.REJECTED, ImportStatus.FAILED},
    },
)
IMPORT_FINISHED_STATES = IMPORT_MACHINE.terminal
