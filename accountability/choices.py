"""Choices and state groups of change plans, legacy workflows and import jobs."""

from django.db import models


# --- Change plans ----------------------------------------------------------------------------
class PlanStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    LIVE = "live", "Live"
    VALUE_REALIZED = "value_realized", "Value realized"
    ABANDONED = "abandoned", "Abandoned"


# The one place that says which moves a change plan may make.
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.PLANNING: frozenset({PlanStatus.LIVE, PlanStatus.ABANDONED}),
    PlanStatus.LIVE: frozenset({PlanStatus.VALUE_REALIZED, PlanStatus.ABANDONED}),
}
PLAN_CLOSED_STATES = frozenset({PlanStatus.VALUE_REALIZED, PlanStatus.ABANDONED})


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


IMPORT_FINISHED_STATES = frozenset({ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED})
