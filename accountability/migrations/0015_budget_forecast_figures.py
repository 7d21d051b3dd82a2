"""The forecast's actual ÷ estimate history stored per catalog item and funding quarter
(ItemActualFigures, across cost centres), carried over from the per cost centre rows, which
keep only the work in flight."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Sum


def carry_over(apps, schema_editor):
    Flights = apps.get_model("accountability", "CommitmentItemFigures")
    Actuals = apps.get_model("accountability", "ItemActualFigures")
    Actuals.objects.bulk_create([
        Actuals(item_id=row["item_id"], period=row["period"], estimate=row["estimate"],
                actual=row["actual"])
        for row in (Flights.objects.order_by().values("item_id", "period")
                    .annotate(estimate=Sum("fulfilled_estimate"), actual=Sum("fulfilled_actual")))
        if row["estimate"] or row["actual"]
    ], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('accountability', '0014_budget_figures'),
        ('governance', '0019_user_language'),
        ('requests_app', '0006_request_title_search'),
    ]

    operations = [
        migrations.CreateModel(
            name='ItemActualFigures',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period', models.DateField(help_text='First day of the budget quarter that funded them.')),
                ('estimate', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('actual', models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='requests_app.catalogitem')),
            ],
            options={
                'verbose_name_plural': 'item actual figures',
            },
        ),
        migrations.AddConstraint(
            model_name='itemactualfigures',
            constraint=models.UniqueConstraint(fields=('item', 'period'), name='item_actual_figures_key'),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='commitmentitemfigures',
            name='commitment_item_period',
        ),
        migrations.RemoveField(
            model_name='commitmentitemfigures',
            name='fulfilled_actual',
        ),
        migrations.RemoveField(
            model_name='commitmentitemfigures',
            name='fulfilled_estimate',
        ),
        migrations.AddIndex(
            model_name='commitmentitemfigures',
            index=models.Index(condition=models.Q(('in_flight', 0), _negated=True), fields=['period'], name='commitment_item_period'),
        ),
    ]
