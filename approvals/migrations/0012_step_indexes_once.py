"""A step's request, department and head have no index of their own: ``step_order_unique``
(request, order), ``step_dept_state`` (department, state) and ``step_head_state`` (head,
state) lead with them, and every change of a step's state wrote all three. Dropped by name,
as in accountability 0018 (Django's ``AlterField`` would re-validate the foreign keys over
every step)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, Django's name for the column's own index)
OWN_INDEXES = [
    ("approvals_step", "request_id",
     "approvals_step_request_id_54c86df2"),
    ("approvals_step", "accountable_department_id",
     "approvals_step_accountable_department_id_ee0eff93"),
    ("approvals_step", "accountable_head_id",
     "approvals_step_accountable_head_id_5203c158"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0011_field_labels_translated"),
        ("governance", "0024_user_sessions"),
        ("requests_app", "0007_field_labels_translated"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="step",
                    name="accountable_department",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="steps", to="governance.department", verbose_name="accountable department"),
                ),
                migrations.AlterField(
                    model_name="step",
                    name="accountable_head",
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="accountable_steps", to=settings.AUTH_USER_MODEL, verbose_name="accountable head"),
                ),
                migrations.AlterField(
                    model_name="step",
                    name="request",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="steps", to="requests_app.servicerequest", verbose_name="request"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')
                for table, column, index in OWN_INDEXES
            ],
        ),
    ]
