from django.db import models

from governance.states import StateMachine
from kit.errors import ErrorCode


class RequestState(models.TextChoices):
    IN_APPROVAL = "in_approval", "Awaiting approval"
    IN_PROGRESS = "in_progress", "In progress"
    FULFILLED = "fulfilled", "Fulfilled"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


# The one place that says which moves a request may make. A request is created awaiting
# approval (or, imported from a legacy tracker, in whatever state it had got to); an execution
# step followed by an approval step takes it back to approval.
REQUEST_MACHINE = StateMachine(
    name="request",
    choices=RequestState,
    field="state",
    initial=RequestState.values,
    transitions={
        RequestState.IN_APPROVAL: {RequestState.IN_PROGRESS, RequestState.FULFILLED,
                                   RequestState.REJECTED, RequestState.CANCELLED},
        RequestState.IN_PROGRESS: {RequestState.IN_APPROVAL, RequestState.FULFILLED,
                                   RequestState.REJECTED, RequestState.CANCELLED},
    },
    conflict_code=ErrorCode.REQUEST_CLOSED,
)
OPEN_STATES = REQUEST_MACHINE.group(RequestState.IN_APPROVAL, RequestState.IN_PROGRESS)
CLOSED_STATES = REQUEST_MACHINE.terminal
# The groups a list of requests can be filtered by beside single states (``?state=open``).
REQUEST_STATE_GROUPS = {"open": ("Open", OPEN_STATES), "closed": ("Closed", CLOSED_STATES)}


class LegacyStatus(models.TextChoices):
    """The status column of a legacy tracker import: where the request had got to."""

    OPEN = "open", "Open (waiting at its first step)"
    IN_APPROVAL = "in_approval", "Awaiting approval"
    IN_PROGRESS = "in_progress", "In progress (approved, being executed)"
    FULFILLED = "fulfilled", "Fulfilled"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


LEGACY_CLOSED_STATUSES = frozenset(
    {LegacyStatus.FULFILLED, LegacyStatus.REJECTED, LegacyStatus.CANCELLED}
)


class Source(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    LEGACY_IMPORT = "legacy_import", "Legacy import"


class FieldType(models.TextChoices):
    TEXT = "text", "Short text"
    TEXTAREA = "textarea", "Long text"
    INTEGER = "integer", "Whole number"
    DECIMAL = "decimal", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice"
    BOOLEAN = "boolean", "Yes / no"
    EMAIL = "email", "Email address"


class RequestAction(models.TextChoices):
    """What a person may do to a request (``ServiceRequest.allowed_actions(user)``, the API's
    ``allowed_actions``): each is one service (cancel, comment, internal note, answer the open
    question)."""

    CANCEL = "cancel", "Cancel"
    COMMENT = "comment", "Comment"
    NOTE = "note", "Internal note"
    ANSWER = "answer", "Answer the question"
