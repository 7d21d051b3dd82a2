"""The audit trail survives its own database role: the runtime role cannot rewrite, empty or
switch off the protection of the audit table, the owner cannot TRUNCATE it by accident, and
every event is hash-chained so that ``verify_audit`` names an edit made behind its back."""

import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from approvals.services import step_approve
from governance.models import AuditEvent
from governance.services.audit import audit_chain_verify
from tests.factories import active_step

pytestmark = pytest.mark.postgres


def _connect_as(role: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                           dbname=settings["NAME"], user=role, autocommit=True)


@pytest.fixture
def runtime_role(transactional_db):
    """An ordinary login role granted as production grants it (``grant_runtime_role``)."""
    role = f"srm_runtime_test_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        call_command("grant_runtime_role", role, stdout=StringIO())
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_cannot_tamper_with_the_audit_trail(org, submit, runtime_role):
    request = submit()
    count = AuditEvent.objects.count()
    tamper = {
        "UPDATE": "UPDATE governance_auditevent SET verb = 'tampered'",
        "DELETE": "DELETE FROM governance_auditevent",
        "TRUNCATE": "TRUNCATE governance_auditevent",
        "DISABLE TRIGGER": "ALTER TABLE governance_auditevent DISABLE TRIGGER ALL",
        "session_replication_role": "SET session_replication_role = replica",
    }
    with _connect_as(runtime_role) as app:
        # It works as the application: reads, and appends through the chain.
        assert app.execute("SELECT count(*) FROM governance_auditevent").fetchone()[0] == count
        app.execute("SELECT count(*) FROM requests_app_servicerequest").fetchone()
        for route, statement in tamper.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            assert app.execute(
                "SELECT count(*) FROM governance_auditevent WHERE verb <> 'tampered'"
            ).fetchone()[0] == count, route
    with _connect_as(runtime_role) as app:  # the cost-of-delay ledger is append-only too
        for statement in ("UPDATE accountability_delayposting SET amount = 0",
                          "DELETE FROM accountability_delayposting"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
    assert audit_chain_verify().ok
    assert AuditEvent.objects.filter(correlation=request.reference).count() == 2


@pytest.mark.django_db(transaction=True)
def test_grant_runtime_role_refuses_a_superuser(db):
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_runtime_role", connection.settings_dict["USER"] or "postgres")


def test_even_the_owner_cannot_truncate_the_audit_trail(org, submit):
    submit()
    with (pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending: TRUNCATE may run
        cursor.execute("SET LOCAL srm.audit_truncate_allowed = 'off'")
        cursor.execute("TRUNCATE governance_auditevent CASCADE")
    assert AuditEvent.objects.exists()


def test_every_event_is_chained_to_the_previous_one_of_its_request(org, submit):
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active_step(request))
    events = list(AuditEvent.objects.filter(correlation=request.reference).order_by("chain_seq"))
    assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == ""
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash and len(event.hash) == 64
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith(f"OK: {AuditEvent.objects.count()} audit events")


def test_verify_audit_names_an_event_the_owner_edited(org, submit):
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active_step(request), comment="Within plan")
    edited = AuditEvent.objects.get(correlation=request.reference, verb="step.approved")
    with connection.cursor() as cursor:  # the owner switches the guard off and edits
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE governance_auditevent SET data = '{\"comment\": \"x\"}'::jsonb, "
                       "actor_id = %s WHERE id = %s", [org.fiona.pk, edited.pk])
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER USER")

    with pytest.raises(CommandError, match=f"event #{edited.pk}.*changed after it was written"):
        call_command("verify_audit", stdout=StringIO(), stderr=StringIO())


def test_verify_audit_names_a_deleted_link(org, submit):
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active_step(request))
    removed = AuditEvent.objects.filter(correlation=request.reference).order_by("chain_seq")[1]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM governance_auditevent WHERE id = %s", [removed.pk])
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER USER")
    check = audit_chain_verify()
    assert not check.ok
    assert "link 2 is missing" in check.broken[0]
