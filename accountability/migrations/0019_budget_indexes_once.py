"""Every commitment writes fewer index entries.

- A cost centre's department has no index of its own on the postings, the stored quarters or
  the items' work in flight: an index leads with it on each (``commitment_dept_quarter``,
  ``budget_figures_key``, ``commitment_item_figures_key``). The postings' (quarter,
  department) index becomes (department, quarter): nothing reads the postings by quarter
  alone, and the department's foreign key needs one that leads with it. Dropped by name, as in
  0018 (Django's ``AlterField`` would re-validate the foreign key over every row).
- ``commitment_item_flight`` no longer has a condition on ``in_flight``: a column named by an
  index condition makes every update of it write a new entry in every index of the table."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "accountability_commitmentposting": "accountability_commitmentposting_department_id_fa2e68af",
    "accountability_budgetfigures": "accountability_budgetfigures_department_id_834606ad",
    "accountability_commitmentitemfigures":
        "accountability_commitmentitemfigures_department_id_677c303e",
}


def _department(model: str, **extra) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model,
        name="department",
        field=models.ForeignKey(db_index=False, related_name="+", to="governance.department",
                                **extra),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0018_commitment_request_index_once"),
        ("governance", "0024_user_sessions"),
        ("requests_app", "0007_field_labels_translated"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                _department("budgetfigures", on_delete=django.db.models.deletion.CASCADE),
                _department("commitmentitemfigures",
                            on_delete=django.db.models.deletion.CASCADE),
                _department("commitmentposting", on_delete=django.db.models.deletion.PROTECT,
                            help_text="The requester's department: the cost centre that pays.",
                            verbose_name="department"),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  f'CREATE INDEX IF NOT EXISTS "{index}" '
                                  f'ON "{table}" ("department_id")')
                for table, index in INDEXES.items()
            ],
        ),
        migrations.RemoveIndex(model_name="commitmentposting", name="commitment_quarter_dept"),
        migrations.AddIndex(
            model_name="commitmentposting",
            index=models.Index(fields=["department", "quarter"], name="commitment_dept_quarter"),
        ),
        migrations.RemoveIndex(model_name="commitmentitemfigures", name="commitment_item_flight"),
        migrations.AddIndex(
            model_name="commitmentitemfigures",
            index=models.Index(fields=["period", "item"], name="commitment_item_flight"),
        ),
    ]
