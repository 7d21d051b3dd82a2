"""The audit trail becomes tamper-evident and refuses TRUNCATE (PostgreSQL; nothing on SQLite).

- ``governance_audit_digest(prev_hash, event)``: SHA-256 over the previous link's hash and the
  event's content, the one definition the trigger and ``manage.py verify_audit`` share.
- A BEFORE INSERT trigger chains every new event to the last one of its correlation, under a
  transaction-level advisory lock per correlation (two writers of one chain queue).
- A BEFORE TRUNCATE trigger refuses to empty the table, for the owner too (the runtime role
  has no TRUNCATE privilege at all, see ``grant_runtime_role``). Setting
  ``srm.audit_truncate_allowed = on`` in a session lets that session truncate: it exists for
  throwaway test databases (Django's flush); the owner could drop the trigger anyway, which
  ``verify_audit`` would then show as a broken or missing chain.
- Events written before this migration are chained once, here, in id order per correlation.
- The triggers are ENABLE ALWAYS: ``session_replication_role = replica`` (which a superuser's
  bulk load uses to skip foreign-key checks) does not switch them off.
"""

from django.db import migrations, models

DIGEST = """
CREATE OR REPLACE FUNCTION governance_audit_digest(prev text, e governance_auditevent)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(prev, '') || '|' || jsonb_build_array(
        e.id, e.correlation, e.chain_seq, extract(epoch FROM e.created_at)::text,
        e.actor_id, e.on_behalf_of_id, e.verb, e.content_type_id, e.object_id,
        e.object_repr, e.from_state, e.to_state, e.data
    )::text, 'UTF8')), 'hex')
$$;
"""

BACKFILL = """
ALTER TABLE governance_auditevent DISABLE TRIGGER governance_auditevent_append_only;
DO $$
DECLARE
    r governance_auditevent;
    chain text := NULL;
    seq bigint := 0;
    last text := '';
BEGIN
    FOR r IN SELECT * FROM governance_auditevent ORDER BY correlation, id LOOP
        IF chain IS DISTINCT FROM r.correlation THEN
            chain := r.correlation; seq := 0; last := '';
        END IF;
        seq := seq + 1;
        r.chain_seq := seq;
        r.prev_hash := last;
        last := governance_audit_digest(last, r);
        UPDATE governance_auditevent SET chain_seq = seq, prev_hash = r.prev_hash, hash = last
            WHERE id = r.id;
    END LOOP;
END $$;
ALTER TABLE governance_auditevent ENABLE TRIGGER governance_auditevent_append_only;
"""

TRIGGERS = """
CREATE OR REPLACE FUNCTION governance_auditevent_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('governance_auditevent'), hashtext(NEW.correlation));
    SELECT chain_seq, hash INTO last_seq, last_hash FROM governance_auditevent
        WHERE correlation = NEW.correlation AND chain_seq IS NOT NULL
        ORDER BY chain_seq DESC LIMIT 1;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, '');
    NEW.hash := governance_audit_digest(NEW.prev_hash, NEW);
    RETURN NEW;
END;
$$;
CREATE TRIGGER governance_auditevent_chain
    BEFORE INSERT ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION governance_auditevent_chain();

CREATE OR REPLACE FUNCTION governance_auditevent_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('srm.audit_truncate_allowed', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE refused';
END;
$$;
CREATE TRIGGER governance_auditevent_no_truncate
    BEFORE TRUNCATE ON governance_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION governance_auditevent_no_truncate();

-- ALWAYS: they fire with session_replication_role = replica too (a bulk loader's setting).
ALTER TABLE governance_auditevent ENABLE ALWAYS TRIGGER governance_auditevent_chain;
ALTER TABLE governance_auditevent ENABLE ALWAYS TRIGGER governance_auditevent_no_truncate;
ALTER TABLE governance_auditevent ENABLE ALWAYS TRIGGER governance_auditevent_append_only;
"""

BACKWARD = """
ALTER TABLE governance_auditevent ENABLE TRIGGER governance_auditevent_append_only;
DROP TRIGGER IF EXISTS governance_auditevent_no_truncate ON governance_auditevent;
DROP FUNCTION IF EXISTS governance_auditevent_no_truncate();
DROP TRIGGER IF EXISTS governance_auditevent_chain ON governance_auditevent;
DROP FUNCTION IF EXISTS governance_auditevent_chain();
DROP FUNCTION IF EXISTS governance_audit_digest(text, governance_auditevent);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DIGEST)
        schema_editor.execute(BACKFILL)
        schema_editor.execute(TRIGGERS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('governance', '0011_round_the_clock_calendars'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='chain_seq',
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['correlation', 'chain_seq'], name='audit_chain'),
        ),
        migrations.RunPython(forward, backward),
    ]
