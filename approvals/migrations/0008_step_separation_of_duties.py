"""Separation of duties in the database: nobody decides two approval steps of one request.

A trigger, not a unique index: requests decided before this rule existed keep their history
as it was (an index could not be built over them), and the rule covers delegates too (the
head a delegate decided for, ``acted_for``). It checks every decision written from now on: an
approval step moving into approved or rejected in the tool (not recorded as decided outside
it) is refused when the same person decided, or had decided for them, another approval step
of the request. The services refuse it first with a message (approvals.services.separation);
this is the guarantee for any other writer. PostgreSQL only; the embedded SQLite has the
services' check."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION approvals_step_separation_of_duties() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = NEW.state
       AND OLD.decided_by_id IS NOT DISTINCT FROM NEW.decided_by_id
       AND OLD.acted_for_id IS NOT DISTINCT FROM NEW.acted_for_id
       AND OLD.decided_outside = NEW.decided_outside THEN
        RETURN NEW;  -- not a new decision: history stays as it was
    END IF;
    IF NEW.kind = 'approval' AND NEW.state IN ('approved', 'rejected')
       AND NOT NEW.decided_outside AND NEW.decided_by_id IS NOT NULL
       AND EXISTS (
           SELECT 1 FROM approvals_step other
           WHERE other.request_id = NEW.request_id AND other.id <> NEW.id
             AND other.kind = 'approval' AND other.state IN ('approved', 'rejected')
             AND NOT other.decided_outside
             AND (other.decided_by_id IN (NEW.decided_by_id, NEW.acted_for_id)
                  OR other.acted_for_id IN (NEW.decided_by_id, NEW.acted_for_id))
       ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            MESSAGE = 'separation of duties: a person decides at most one approval step of a request',
            DETAIL = format('step %s of request %s, decided by user %s', NEW.id, NEW.request_id,
                            NEW.decided_by_id);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER approvals_step_separation_of_duties
    BEFORE INSERT OR UPDATE OF state, decided_by_id, acted_for_id, decided_outside
    ON approvals_step
    FOR EACH ROW
    WHEN (NEW.kind = 'approval' AND NEW.state IN ('approved', 'rejected'))
    EXECUTE FUNCTION approvals_step_separation_of_duties();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS approvals_step_separation_of_duties ON approvals_step;
DROP FUNCTION IF EXISTS approvals_step_separation_of_duties();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("approvals", "0007_step_work_queue"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
