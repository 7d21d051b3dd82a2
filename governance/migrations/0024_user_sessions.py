"""Sessions whose row names the signed-in person (``governance.identity.sessions``), so a
request reads its session and its person in one statement.

The sessions open in Django's own table are copied over with their person, so nobody is
signed out by the change; expired ones are left behind (``clearsessions`` removes them).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def copy_open_sessions(apps, schema_editor):
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    connection = schema_editor.connection
    if "django_session" not in connection.introspection.table_names():
        return
    UserSession = apps.get_model("governance", "UserSession")
    User = apps.get_model("governance", "User")
    decoder = SessionStore()  # the salt is the store's class name, the same in both
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data, expire_date FROM django_session "
                       "WHERE expire_date > %s", [timezone.now()])
        rows = cursor.fetchall()
    people = set(User.objects.values_list("pk", flat=True))
    copies = []
    for key, data, expires in rows:
        try:
            user_id = int(decoder.decode(data).get(SESSION_KEY))
        except (TypeError, ValueError):
            user_id = None
        copies.append(UserSession(session_key=key, session_data=data, expire_date=expires,
                                  user_id=user_id if user_id in people else None))
    UserSession.objects.bulk_create(copies, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0023_field_labels_translated"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserSession",
            fields=[
                ("session_key", models.CharField(max_length=40, primary_key=True, serialize=False,
                                                 verbose_name="session key")),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                ("user", models.ForeignKey(blank=True, null=True,
                                           on_delete=django.db.models.deletion.CASCADE,
                                           related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "session",
                "verbose_name_plural": "sessions",
                "abstract": False,
            },
        ),
        migrations.RunPython(copy_open_sessions, migrations.RunPython.noop),
    ]
