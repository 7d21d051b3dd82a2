"""The GIN index behind the search box's title match on PostgreSQL.

Its expression is exactly what ``requests_app.search`` filters on
(``SearchVector("title", config="simple")``), so the planner uses it. SQLite has no such
index and searches titles with ``LIKE``; the model's state is unchanged on both.
"""

from django.db import migrations

INDEX = "request_title_words"
CREATE = (f"CREATE INDEX IF NOT EXISTS {INDEX} ON requests_app_servicerequest "
          "USING gin (to_tsvector('simple'::regconfig, COALESCE(title, '')))")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0005_actual_cost")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
