"""The audit trail survives its own database role: the runtime role cannot rewrite, empty or
switch off the protection of the audit table, the owner cannot TRUNCATE it by accident, and
every event is hash-chained so that ``verify_audit`` names an edit made behind its back."""

import threading
import time
import uuid
from io import StringIO

import psycopg
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from approvals.services import step_approve
from governance.models import AuditEvent
from governance.services.audit import audit_chain_verify
from tests.factories import active_step

pytestmark = pytest.mark.postgres


def psycopg_connection() -> psycopg.Connection:
    """A second connection to the test database, as its owner."""
    return _connect_as(connection.settings_dict["USER"] or "postgres")


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


def test_verify_audit_names_events_deleted_from_the_end_of_a_chain(org, submit):
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active_step(request))
    last = AuditEvent.objects.filter(correlation=request.reference).order_by("chain_seq").last()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM governance_auditevent WHERE id = %s", [last.pk])
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER USER")
    check = audit_chain_verify()
    assert not check.ok
    assert check.broken == [
        f"chain “{request.reference}” ends at link {last.chain_seq - 1} but was written up to "
        f"link {last.chain_seq} (events were deleted from its end)"]


def test_one_transaction_extends_more_chains_than_the_shared_lock_table_holds(db):
    """A delay scan raising 20,000 risks writes the first event of 20,000 request chains in
    one transaction. A lock per chain in PostgreSQL's shared lock table (about
    max_locks_per_transaction × (max_connections + max_prepared_transactions) entries) ran out
    of memory; every chain is still extended, each by one linked event."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_locks_per_transaction')::int * "
                       "(current_setting('max_connections')::int + "
                       "current_setting('max_prepared_transactions')::int)")
        # Lock-table entries may also borrow from spare shared memory: go well beyond.
        chains = 4 * cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO governance_auditevent (created_at, verb, content_type_id, object_id,
                   object_repr, correlation, from_state, to_state, data)
               SELECT now(), 'risk.raised', %s, n::text, 'risk ' || n, 'CHAIN-' || n, '',
                      'level 1', '{}'::jsonb
               FROM generate_series(1, %s) AS n""",
            [ContentType.objects.get_for_model(AuditEvent).pk, chains])
    events = AuditEvent.objects.filter(correlation__startswith="CHAIN-")
    assert events.count() == chains
    assert set(events.values_list("chain_seq", "prev_hash").distinct()) == {(1, "")}
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_chain_queue_and_link_in_order(org, submit):
    request = submit(cost="7500")
    first = psycopg_connection()
    try:
        with first.transaction():
            first.execute(
                """INSERT INTO governance_auditevent (created_at, verb, content_type_id,
                       object_id, object_repr, correlation, from_state, to_state, data)
                   VALUES (now(), 'comment.added', %s, '1', 'held', %s, '', '', '{}')""",
                [ContentType.objects.get_for_model(AuditEvent).pk, request.reference])
            # The other writer of this chain waits for the head row until this commits.
            with pytest.raises(DatabaseError, match="lock timeout"), \
                    transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
                step_approve(actor=org.hank, step=active_step(request))
    finally:
        first.close()
    step_approve(actor=org.hank, step=active_step(request))
    seqs = list(AuditEvent.objects.filter(correlation=request.reference)
                .order_by("chain_seq").values_list("chain_seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_two_writers_starting_one_chain_link_in_order():
    """Both write the first event of a chain nobody has written yet: the second cannot see the
    first's uncommitted head, so it tries to start the chain too, waits for the first to
    commit, and then links onto its event instead."""
    content_type = ContentType.objects.get_for_model(AuditEvent).pk
    insert = """INSERT INTO governance_auditevent (created_at, verb, content_type_id, object_id,
                    object_repr, correlation, from_state, to_state, data)
                VALUES (now(), 'comment.added', %s, %s, 'new chain', 'NEW-CHAIN', '', '', '{}')"""
    first, second = psycopg_connection(), psycopg_connection()
    errors = []

    def second_writer():
        try:
            second.execute(insert, [content_type, "2"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        first.execute("BEGIN")
        first.execute(insert, [content_type, "1"])
        writer = threading.Thread(target=second_writer)
        writer.start()
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock(first, second.info.backend_pid):
            assert time.monotonic() < deadline, "the second writer never waited"
            time.sleep(0.05)
        first.execute("COMMIT")
        writer.join(10)
        assert not writer.is_alive() and not errors, errors
    finally:
        first.close()
        second.close()
    events = list(AuditEvent.objects.filter(correlation="NEW-CHAIN").order_by("chain_seq"))
    assert [(e.object_id, e.chain_seq) for e in events] == [("1", 1), ("2", 2)]
    assert events[1].prev_hash == events[0].hash
    assert audit_chain_verify().ok


def _waiting_for_a_lock(observer: psycopg.Connection, pid: int) -> bool:
    row = observer.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                           [pid]).fetchone()
    return bool(row) and row[0] == "Lock"
