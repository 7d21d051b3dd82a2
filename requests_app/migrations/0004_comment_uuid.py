"""Comments get a random identifier for pages, anchors and the API (the sequential primary key
showed requesters that internal notes sat between their comments). Existing comments get one
each: in SQL on PostgreSQL (no rows through Python), row by row on the embedded SQLite."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("UPDATE requests_app_comment SET uuid = gen_random_uuid() "
                              "WHERE uuid IS NULL")
        return
    Comment = apps.get_model("requests_app", "Comment")
    for pk in Comment.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
        Comment.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("requests_app", "0003_catalog_keywords"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="comment",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
