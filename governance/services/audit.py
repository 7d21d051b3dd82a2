from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from governance.choices import AuditVerb
from governance.models import AuditEvent, User


def audit_record(
    *,
    actor: User | None,
    verb: AuditVerb | str,
    target: models.Model,
    from_state: str = "",
    to_state: str = "",
    correlation: str = "",
    on_behalf_of: User | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction that made the change."""
    event = audit_build(
        actor=actor, verb=verb, target=target, from_state=from_state, to_state=to_state,
        correlation=correlation, on_behalf_of=on_behalf_of, data=data, at=at,
    )
    event.save()
    return event


def audit_save(events: list[AuditEvent]) -> list[AuditEvent]:
    """Append events built by ``audit_build`` in one statement, in the order given (their
    ids follow that order, as one ``audit_record`` after the other would give them)."""
    if len(events) == 1:
        events[0].save()
    elif events:
        AuditEvent.objects.bulk_create(events)
    return events


def audit_build(
    *,
    actor: User | None,
    verb: AuditVerb | str,
    target: models.Model,
    from_state: str = "",
    to_state: str = "",
    correlation: str = "",
    on_behalf_of: User | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """An unsaved audit event, for writers that save many at once with ``bulk_create``.
    ``verb`` must be an ``AuditVerb`` (a string is checked against it: ``ValueError``)."""
    verb = AuditVerb(verb)
    return AuditEvent(
        created_at=at or timezone.now(),
        actor=actor,
        on_behalf_of=on_behalf_of,
        verb=verb,
        content_type=ContentType.objects.get_for_model(target),
        object_id=str(target.pk),
        object_repr=str(target)[:200],
        correlation=correlation,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
