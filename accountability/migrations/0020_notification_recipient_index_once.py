"""A notification's recipient has no index of its own: ``notification_recipient`` (recipient,
created) leads with it. Dropped by name, as in 0018."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, Django's name for the column's own index)
OWN_INDEXES = [
    ("governance_notification", "recipient_id",
     "governance_notification_recipient_id_a9aa290f"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0019_budget_indexes_once"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="recipient",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="notifications", to=settings.AUTH_USER_MODEL, verbose_name="recipient"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')
                for table, column, index in OWN_INDEXES
            ],
        ),
    ]
