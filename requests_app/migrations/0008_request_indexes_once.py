"""A request's requester, department, item and accountable department have no index of their
own: ``request_requester_recent``, ``request_dept_recent``, ``request_item_submitted`` and
``request_acc_dept_state`` lead with them, and every change of a request wrote all four.
Dropped by name, as in accountability 0018."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, Django's name for the column's own index)
OWN_INDEXES = [
    ("requests_app_servicerequest", "accountable_department_id",
     "requests_app_servicerequest_accountable_department_id_23ec3d50"),
    ("requests_app_servicerequest", "item_id",
     "requests_app_servicerequest_item_id_4368171a"),
    ("requests_app_servicerequest", "requester_id",
     "requests_app_servicerequest_requester_id_ea9aebb5"),
    ("requests_app_servicerequest", "requester_department_id",
     "requests_app_servicerequest_requester_department_id_117feaca"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0024_user_sessions"),
        ("requests_app", "0007_field_labels_translated"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="servicerequest",
                    name="accountable_department",
                    field=models.ForeignKey(blank=True, db_index=False, help_text="The department whose step is active now.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="accountable_requests", to="governance.department", verbose_name="accountable department"),
                ),
                migrations.AlterField(
                    model_name="servicerequest",
                    name="item",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="requests", to="requests_app.catalogitem", verbose_name="item"),
                ),
                migrations.AlterField(
                    model_name="servicerequest",
                    name="requester",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="service_requests", to=settings.AUTH_USER_MODEL, verbose_name="requester"),
                ),
                migrations.AlterField(
                    model_name="servicerequest",
                    name="requester_department",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="requests_made", to="governance.department", verbose_name="requester department"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')
                for table, column, index in OWN_INDEXES
            ],
        ),
    ]
