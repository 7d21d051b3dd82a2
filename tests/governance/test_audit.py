import pytest
from django.db import transaction
from django.db.utils import DatabaseError

from governance.models import AuditEvent


def test_audit_events_cannot_be_changed_or_deleted(org, submit):
    request = submit()
    event = AuditEvent.objects.filter(correlation=request.reference).first()
    event.verb = "tampered"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.postgres
def test_the_database_refuses_to_rewrite_history(org, submit):
    request = submit()
    events = AuditEvent.objects.filter(correlation=request.reference)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        events.update(verb="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        events.delete()
