"""An audit event's content type has no index of its own: (content type, object, created)
leads with it. Dropped by name, as in accountability 0018."""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, Django's name for the column's own index)
OWN_INDEXES = [
    ("governance_auditevent", "content_type_id",
     "governance_auditevent_content_type_id_5c30f05a"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("governance", "0024_user_sessions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="content_type",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="contenttypes.contenttype", verbose_name="content type"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')
                for table, column, index in OWN_INDEXES
            ],
        ),
    ]
