from django.db import models


class StepKind(models.TextChoices):
    APPROVAL = "approval", "Approval"
    EXECUTION = "execution", "Execution"


class Responsible(models.TextChoices):
    REQUESTER_HEAD = "requester_head", "Head of the requester's department"
    DEPARTMENT = "department", "A named department"
    FULFILLING = "fulfilling", "The fulfilling department"


class StepState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Not needed"
    CANCELLED = "cancelled", "Cancelled"


# The one place that says which moves a step may make.
STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    StepState.PENDING: frozenset({StepState.ACTIVE, StepState.CANCELLED}),
    StepState.ACTIVE: frozenset(
        {StepState.APPROVED, StepState.REJECTED, StepState.DONE, StepState.CANCELLED}
    ),
}
STEP_CLOSED_STATES = frozenset(
    {StepState.APPROVED, StepState.REJECTED, StepState.DONE, StepState.SKIPPED, StepState.CANCELLED}
)
