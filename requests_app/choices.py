from django.db import models


class RequestState(models.TextChoices):
    IN_APPROVAL = "in_approval", "Awaiting approval"
    IN_PROGRESS = "in_progress", "In progress"
    FULFILLED = "fulfilled", "Fulfilled"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = frozenset({RequestState.IN_APPROVAL, RequestState.IN_PROGRESS})
CLOSED_STATES = frozenset({RequestState.FULFILLED, RequestState.REJECTED, RequestState.CANCELLED})

# The one place that says which moves a request may make.
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestState.IN_APPROVAL: frozenset(
        {RequestState.IN_APPROVAL, RequestState.IN_PROGRESS, RequestState.FULFILLED,
         RequestState.REJECTED, RequestState.CANCELLED}
    ),
    RequestState.IN_PROGRESS: frozenset(
        {RequestState.IN_PROGRESS, RequestState.FULFILLED, RequestState.CANCELLED}
    ),
}


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
