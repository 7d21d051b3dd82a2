"""The audit chain's trigger always finds a chain's head through its primary key.

PL/pgSQL keeps the plan of each statement in the trigger for the session. A plan made while
``governance_auditchainhead`` was still empty (a new installation, a restored test database)
reads the whole table sequentially, and it is kept while the table grows: a delay scan
writing the first events of 20,000 chains in one transaction then read the table once per
event, 5 s of a 7 s scan at 1,000,000 steps. Every statement in the trigger looks a head up
by its correlation, the primary key, so the function runs with sequential scans off: the
kept plan is the index lookup whatever the table held when it was made.
"""

from django.db import migrations

FORWARD = "ALTER FUNCTION governance_auditevent_chain() SET enable_seqscan = off"
BACKWARD = "ALTER FUNCTION governance_auditevent_chain() RESET enable_seqscan"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0021_audit_chain_one_write"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
