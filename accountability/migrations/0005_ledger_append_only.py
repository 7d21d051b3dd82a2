"""The cost-of-delay ledger, step 3: the accruals and the rounded day length retire, and on
PostgreSQL a trigger refuses any UPDATE or DELETE of a posting, as for audit events."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION accountability_delayposting_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cost-of-delay postings are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accountability_delayposting_append_only
    BEFORE UPDATE OR DELETE ON accountability_delayposting
    FOR EACH ROW EXECUTE FUNCTION accountability_delayposting_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS accountability_delayposting_append_only ON accountability_delayposting;
DROP FUNCTION IF EXISTS accountability_delayposting_append_only();
"""


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


def not_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY)



class Migration(migrations.Migration):

    dependencies = [("accountability", "0004_accruals_to_postings")]

    operations = [
        migrations.DeleteModel(name="DelayAccrual"),
        migrations.RemoveField(model_name="delayrisk", name="day_hours"),
        migrations.RunPython(append_only, not_append_only),
    ]
