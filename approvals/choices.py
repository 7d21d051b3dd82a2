from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.states import StateMachine
from kit.errors import ErrorCode


class StepKind(models.TextChoices):
    APPROVAL = "approval", _("Approval")
    EXECUTION = "execution", _("Execution")


class Responsible(models.TextChoices):
    REQUESTER_HEAD = "requester_head", _("Head of the requester's department")
    DEPARTMENT = "department", _("A named department")
    FULFILLING = "fulfilling", _("The fulfilling department")


class ReassignReason(models.TextChoices):
    """Why an open step moved to another accountable person (``step.reassigned``)."""

    HEAD_CHANGED = "head_changed", _("The department has a new head")
    LEAVER = "leaver", _("The accountable person left")


class ReleaseReason(models.TextChoices):
    """Why execution work someone had taken on went back to its department's queue
    (``step.released``)."""

    MOVED = "moved", _("The agent moved to another department")
    LEFT = "left", _("The agent left the organisation")


class StepState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Not needed")
    CANCELLED = "cancelled", _("Cancelled")


# The one place that says which moves a step may make. Steps are created pending (or
# skipped, when their condition does not hold); the first pending one becomes active.
STEP_MACHINE = StateMachine(
    name="step",
    choices=StepState,
    field="state",
    initial={StepState.PENDING, StepState.SKIPPED},
    transitions={
        StepState.PENDING: {StepState.ACTIVE, StepState.CANCELLED},
        StepState.ACTIVE: {StepState.APPROVED, StepState.REJECTED, StepState.DONE,
                           StepState.CANCELLED},
    },
    conflict_code=ErrorCode.STEP_NOT_ACTIVE,
)
STEP_OPEN_STATES = STEP_MACHINE.group(StepState.PENDING, StepState.ACTIVE)
STEP_CLOSED_STATES = STEP_MACHINE.terminal
# A decision was taken (by a person, or the work was done): the step shows who and when.
STEP_DECIDED_STATES = STEP_MACHINE.group(StepState.APPROVED, StepState.REJECTED, StepState.DONE)
# What an approval step may end in when someone decides it.
DECISIONS = STEP_MACHINE.group(StepState.APPROVED, StepState.REJECTED)


class StepAction(models.TextChoices):
    """What a person may do to a step (``Step.allowed_actions(user)``, the API's
    ``allowed_actions``): each is one service of ``approvals.services``."""

    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    HOLD = "hold", _("Ask the requester")
    CLAIM = "claim", _("Take it")
    TAKE_OVER = "take_over", _("Take over")
    COMPLETE = "complete", _("Mark done")


class DecisionChannel(models.TextChoices):
    """Where a person decided an approval step (or asked its question). Every channel goes
    through the same services and rules: each is a decision taken in the tool, never a
    bypass (a decision recorded as taken outside the tool has no channel)."""

    PAGE = "page", _("page")
    EMAIL_LINK = "email_link", _("e-mail link")
    EMAIL_REPLY = "email_reply", _("e-mail reply")
    API = "api", _("API")


# How a step's decision reads after "Approved by Fiona Fischer": the page is the default and
# says nothing more.
CHANNEL_PHRASES = {
    DecisionChannel.EMAIL_LINK: _("via e-mail link"),
    DecisionChannel.EMAIL_REPLY: _("by e-mail reply"),
    DecisionChannel.API: _("via the API"),
}
