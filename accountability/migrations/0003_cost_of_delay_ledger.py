"""The cost-of-delay ledger, step 1 (schema): postings, exact figures on the risks.

Each accrual row becomes an opening-balance posting (same quarter, same amount, its hours in
seconds), so every quarter's figures are unchanged by the move; from then on the delay scan
only appends. Risks keep their figures and learn their exact day length (the department's
working day in seconds, instead of hours rounded to 0.01) and the moment they were posted up
to. On PostgreSQL a trigger refuses any UPDATE or DELETE of a posting, as for audit events.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, Q
from django.utils import timezone


class Migration(migrations.Migration):

    dependencies = [
        ("accountability", "0002_content_types"),
        ("governance", "0011_round_the_clock_calendars"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="delayrisk",
            name="overdue_seconds",
            field=models.DecimalField(decimal_places=6, default=0, help_text="Exact business time overdue posted so far (the sum of the risk's postings).", max_digits=18, verbose_name="business seconds overdue"),
        ),
        migrations.AddField(
            model_name="delayrisk",
            name="day_seconds",
            field=models.PositiveIntegerField(default=28800, help_text="The accountable department's working day when the risk was detected, exact.", verbose_name="business day length (seconds)"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delayrisk",
            name="posted_until",
            field=models.DateTimeField(default=timezone.now, help_text="The moment up to which the overdue time has been posted to the ledger."),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="delayrisk",
            name="overdue_hours",
            field=models.DecimalField(decimal_places=2, default=0, help_text="For display and levels: overdue_seconds in hours, rounded to 0.01 h.", max_digits=10, verbose_name="business hours overdue"),
        ),
        migrations.AlterField(
            model_name="delayrisk",
            name="exposure",
            field=models.DecimalField(decimal_places=2, default=0, help_text="Cost of delay posted so far (the sum of the risk's postings).", max_digits=14),
        ),
        migrations.AddField(
            model_name="quarterfigures",
            name="delay_adjustments",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=16),
        ),
        migrations.CreateModel(
            name="DelayPosting",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quarter", models.DateField(help_text="First day of the quarter the posting counts in.")),
                ("period", models.DateField(help_text="First day of the quarter in which the overdue time passed (an earlier, closed quarter on an adjustment).")),
                ("seconds", models.DecimalField(decimal_places=6, max_digits=18, verbose_name="business seconds")),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("posted_at", models.DateTimeField()),
                ("reason", models.CharField(choices=[("scan", "Delay scan"), ("close", "Step closed"), ("correction", "Correction"), ("reattribution", "Head changed"), ("opening", "Opening balance")], max_length=16)),
                ("note", models.CharField(blank=True, max_length=200)),
                ("department", models.ForeignKey(help_text="The accountable department the cost is charged to.", on_delete=django.db.models.deletion.PROTECT, related_name="+", to="governance.department")),
                ("head", models.ForeignKey(blank=True, help_text="The head accountable while the time passed.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("risk", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="postings", to="accountability.delayrisk")),
            ],
            options={
                "ordering": ["posted_at", "id"],
                "indexes": [models.Index(fields=["quarter", "department"], name="posting_quarter_dept"), models.Index(fields=["risk", "period"], name="posting_risk_period")],
                "constraints": [models.CheckConstraint(condition=Q(quarter__gte=F("period")), name="delay_posting_adjusts_backwards_only")],
            },
        ),
        migrations.AlterField(
            model_name="delayrisk",
            name="day_hours",
            field=models.DecimalField(decimal_places=2, max_digits=4, null=True,
                                      verbose_name="business day length (hours)"),
        ),
    ]
