"""Indexes for the accountability board's reads of the lifecycle's step table.

They live here, with the queries that need them, rather than in approvals (the lifecycle does
not know what accountability reads). Plain ``CREATE INDEX IF NOT EXISTS`` works on PostgreSQL
and SQLite alike; the model state is unchanged, so ``makemigrations`` stays quiet.

- ``step_dept_completed``: time in step, OLA breaches, waiting/working, weekly trend — the
  steps a department completed since a date.
- ``step_dept_activated``: handoffs received — the steps a department took over since a date.
- ``step_activated``: the same across every department (ops leaders' board and handoffs).
- ``step_request_order_done``: the previous finished step of the same request (handoffs).
"""

from django.db import migrations

INDEXES = {
    "step_dept_completed": "approvals_step (accountable_department_id, completed_at)",
    "step_dept_activated": "approvals_step (accountable_department_id, activated_at)",
    "step_activated": "approvals_step (activated_at)",
    "step_request_order_done": "approvals_step (request_id, \"order\", completed_at)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_delay_risks"),
        ("approvals", "0003_step_on_hold_since"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {columns}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, columns in INDEXES.items()
    ]
