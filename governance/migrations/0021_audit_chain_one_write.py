"""The audit chain's trigger writes each chain's head once per event instead of twice.

Until now the trigger upserted the head (``INSERT … ON CONFLICT DO UPDATE``, bumping the
sequence) and then updated it again with the new hash: two row versions per event, which a
scan raising 20,000 risks (each the next link of its request's chain) paid for in time and in
dead rows. Now it reads the head locked (``FOR NO KEY UPDATE``: the key never changes, so
foreign keys are not involved), computes the link and writes the head once. The first link of
a chain inserts the head; if a concurrent writer started the same chain first, the insert
waits for it and yields (``ON CONFLICT DO NOTHING``), and the event is chained onto that
writer's link instead. No subtransaction, no entry in the shared lock table. The chain's
content and ``governance_audit_digest`` are unchanged, so ``verify_audit`` verifies old and
new links alike.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION governance_auditevent_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head governance_auditchainhead;
BEGIN
    SELECT * INTO head FROM governance_auditchainhead
        WHERE correlation = NEW.correlation FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        NEW.chain_seq := 1;
        NEW.prev_hash := '';
        NEW.hash := governance_audit_digest(NEW.prev_hash, NEW);
        INSERT INTO governance_auditchainhead (correlation, seq, hash)
            VALUES (NEW.correlation, 1, NEW.hash)
            ON CONFLICT (correlation) DO NOTHING;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        -- Another transaction started this chain and has committed meanwhile: follow it.
        SELECT * INTO head FROM governance_auditchainhead
            WHERE correlation = NEW.correlation FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'audit chain % was started concurrently', NEW.correlation
                USING ERRCODE = 'serialization_failure';
        END IF;
    END IF;
    NEW.chain_seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := governance_audit_digest(NEW.prev_hash, NEW);
    UPDATE governance_auditchainhead SET seq = NEW.chain_seq, hash = NEW.hash
        WHERE correlation = NEW.correlation;
    RETURN NEW;
END;
$$;
"""

# 0015's trigger, exactly.
BACKWARD = """
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


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0020_user_directory_attributes"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
