"""The audit chain's trigger locks a row per chain instead of an advisory lock per chain.

``pg_advisory_xact_lock`` takes an entry in PostgreSQL's shared lock table for every chain a
transaction extends, and that table holds about ``max_locks_per_transaction ×
max_connections`` entries (6,400 by default): a delay scan raising 20,000 risks, each the
first event of its request's chain in that transaction, failed with "out of shared memory".
A row lock is kept in the row itself, without limit. ``governance_auditchainhead`` holds
each chain's last link; the trigger upserts and locks it, chains the new event onto it and
moves it on. Existing chains get their head here, from their last event.
"""

from django.db import migrations, models

FORWARD = """
INSERT INTO governance_auditchainhead (correlation, seq, hash)
SELECT DISTINCT ON (correlation) correlation, chain_seq, hash
FROM governance_auditevent
WHERE chain_seq IS NOT NULL
ORDER BY correlation, chain_seq DESC;

CREATE OR REPLACE FUNCTION governance_auditevent_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head governance_auditchainhead;
BEGIN
    -- Take (or start) the chain's head row, locked: a second writer of this chain waits here
    -- until this transaction ends; writers of other chains do not.
    INSERT INTO governance_auditchainhead AS h (correlation, seq, hash)
        VALUES (NEW.correlation, 1, '')
        ON CONFLICT (correlation) DO UPDATE SET seq = h.seq + 1
        RETURNING h.* INTO head;
    NEW.chain_seq := head.seq;
    NEW.prev_hash := head.hash;
    NEW.hash := governance_audit_digest(NEW.prev_hash, NEW);
    UPDATE governance_auditchainhead SET hash = NEW.hash WHERE correlation = NEW.correlation;
    RETURN NEW;
END;
$$;
"""

BACKWARD = """
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
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0014_api_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("correlation", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField()),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "db_table": "governance_auditchainhead",
            },
        ),
        migrations.RunPython(forward, backward),
    ]
