"""Choices and state groups of change plans, legacy workflows and import jobs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.states import StateMachine
from kit.errors import ErrorCode


# --- Change plans ----------------------------------------------------------------------------
class PlanStatus(models.TextChoices):
    PLANNING = "planning", _("Planning")
    LIVE = "live", _("Live")
    VALUE_REALIZED = "value_realized", _("Value realized")
    ABANDONED = "abandoned", _("Abandoned")


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
    EMAIL = "email", _("Email")
    SPREADSHEET = "spreadsheet", _("Spreadsheet")
    CHAT = "chat", _("Chat")
    PAPER = "paper", _("Paper")
    OTHER_SYSTEM = "other_system", _("Other system")


class WorkflowDecision(models.TextChoices):
    RETIRE = "retire", _("Retire")
    KEEP = "keep", _("Keep")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    VALIDATING = "validating", _("Checking every row")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected: the file has errors")
    FAILED = "failed", _("Failed")


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
