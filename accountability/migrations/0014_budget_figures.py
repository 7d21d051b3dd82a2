"""The commitment ledger's sums stored per cost centre and quarter (BudgetFigures) and per
cost centre, catalog item and funding quarter (CommitmentItemFigures), filled from the
budgets and postings there are."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, Exists, OuterRef, Q, Sum

ZERO = Decimal("0.00")


def fill(apps, schema_editor):
    Budget = apps.get_model("accountability", "Budget")
    Posting = apps.get_model("accountability", "CommitmentPosting")
    BudgetFigures = apps.get_model("accountability", "BudgetFigures")
    ItemFigures = apps.get_model("accountability", "CommitmentItemFigures")
    rows = {}
    for row in (Posting.objects.order_by().values("department_id", "quarter")
                .annotate(committed=Sum("amount", filter=Q(kind="commit")),
                          actual=Sum("amount", filter=Q(kind="actual")),
                          released=Sum("amount", filter=Q(kind="release")),
                          over=Count("pk", filter=Q(kind="commit") & ~Q(over_budget_reason="")))):
        rows[(row["department_id"], row["quarter"])] = BudgetFigures(
            department_id=row["department_id"], quarter=row["quarter"],
            committed=row["committed"] or ZERO, actual=row["actual"] or ZERO,
            released=row["released"] or ZERO, over_budget=row["over"])
    for budget in Budget.objects.all():
        key = (budget.department_id, budget.quarter)
        rows.setdefault(key, BudgetFigures(department_id=key[0], quarter=key[1])).budget = (
            budget.amount)
    BudgetFigures.objects.bulk_create(rows.values(), batch_size=2000)

    fulfilled = Posting.objects.filter(request_id=OuterRef("request_id"), kind="release",
                                       reason="fulfilled")
    items = []
    for row in (Posting.objects.annotate(with_commitment=Exists(fulfilled)).order_by()
                .values("department_id", "request__item_id", "period")
                .annotate(committed=Sum("amount", filter=Q(kind="commit")),
                          released=Sum("amount", filter=Q(kind="release")),
                          estimate=Sum("amount", filter=Q(kind="release", reason="fulfilled")),
                          actual=Sum("amount", filter=Q(kind="actual", reason="fulfilled",
                                                        with_commitment=True)))):
        values = ((row["committed"] or ZERO) - (row["released"] or ZERO),
                  row["estimate"] or ZERO, row["actual"] or ZERO)
        if any(values):
            items.append(ItemFigures(department_id=row["department_id"],
                                     item_id=row["request__item_id"], period=row["period"],
                                     in_flight=values[0], fulfilled_estimate=values[1],
                                     fulfilled_actual=values[2]))
    ItemFigures.objects.bulk_create(items, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('accountability', '0013_notification_kind_released'),
        ('governance', '0018_longer_department_codes'),
        ('requests_app', '0006_request_title_search'),
    ]

    operations = [
        migrations.CreateModel(
            name='BudgetFigures',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quarter', models.DateField(help_text='First day of the quarter the postings count in.')),
                ('budget', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('committed', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('actual', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('released', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('over_budget', models.PositiveIntegerField(default=0)),
                ('department', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='governance.department')),
            ],
            options={
                'verbose_name_plural': 'budget figures',
                'constraints': [models.UniqueConstraint(fields=('department', 'quarter'), name='budget_figures_key')],
            },
        ),
        migrations.CreateModel(
            name='CommitmentItemFigures',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period', models.DateField(help_text='First day of the budget quarter that funds them.')),
                ('in_flight', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('fulfilled_estimate', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('fulfilled_actual', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('department', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='governance.department')),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='requests_app.catalogitem')),
            ],
            options={
                'verbose_name_plural': 'commitment item figures',
                'indexes': [models.Index(fields=['period'], name='commitment_item_period')],
                'constraints': [models.UniqueConstraint(fields=('department', 'item', 'period'), name='commitment_item_figures_key')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
