"""The moved models' content types follow them: the rows are renamed from ``governance`` to
``accountability`` (same ids), so audit events' generic links, the admin log and
permissions stay attached."""

from django.db import migrations

MOVED = [
    "changeplan", "delayaccrual", "delayrisk", "figuresstamp", "flowfigures", "handofffigures",
    "importjob", "itemtimefigures", "legacyworkflow", "notification", "openworkfigures",
    "quarterfigures", "weekfigures",
]


def _relabel(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue  # a database that never had the row: post_migrate creates it
        # A row created under the new label before this ran (nothing points at it yet).
        ContentType.objects.filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def forwards(apps, schema_editor) -> None:
    _relabel(apps, "governance", "accountability")


def backwards(apps, schema_editor) -> None:
    _relabel(apps, "accountability", "governance")


class Migration(migrations.Migration):

    dependencies = [
        ("accountability", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
