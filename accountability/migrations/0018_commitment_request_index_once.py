"""A posting's request has no index of its own: ``commitment_request_kind`` (request, kind)
leads with it. Dropped by name (Django's ``AlterField`` would re-validate the foreign key over
every posting and leave the index in place)."""

from django.db import migrations, models
import django.db.models.deletion

INDEX = "accountability_commitmentposting_request_id_9f09e4ff"


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0017_field_labels_translated"),
        ("requests_app", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="commitmentposting",
                    name="request",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commitment_postings",
                        to="requests_app.servicerequest",
                        verbose_name="request",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX IF NOT EXISTS "{INDEX}" '
                    'ON "accountability_commitmentposting" ("request_id")',
                ),
            ],
        ),
    ]
