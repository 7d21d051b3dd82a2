from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.states import StateMachine
from kit.errors import ErrorCode


class RequestState(models.TextChoices):
    IN_APPROVAL = "in_approval", _("Awaiting approval")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


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
REQUEST_STATE_GROUPS = {"open": (_("Open"), OPEN_STATES),
                        "closed": (_("Closed"), CLOSED_STATES)}


class LegacyStatus(models.TextChoices):
    """The status column of a legacy tracker import: where the request had got to."""

    OPEN = "open", _("Open (waiting at its first step)")
    IN_APPROVAL = "in_approval", _("Awaiting approval")
    IN_PROGRESS = "in_progress", _("In progress (approved, being executed)")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


LEGACY_CLOSED_STATUSES = frozenset(
    {LegacyStatus.FULFILLED, LegacyStatus.REJECTED, LegacyStatus.CANCELLED}
)


class Source(models.TextChoices):
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    LEGACY_IMPORT = "legacy_import", _("Legacy import")


class FieldType(models.TextChoices):
    TEXT = "text", _("Short text")
    TEXTAREA = "textarea", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes / no")
    EMAIL = "email", _("Email address")


class RequestAction(models.TextChoices):
    """What a person may do to a request (``ServiceRequest.allowed_actions(user)``, the API's
    ``allowed_actions``): each is one service (cancel, comment, internal note, answer the open
    question)."""

    CANCEL = "cancel", pgettext_lazy("request action", "Cancel")
    COMMENT = "comment", _("Comment")
    NOTE = "note", _("Internal note")
    ANSWER = "answer", _("Answer the question")
