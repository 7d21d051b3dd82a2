"""The cost-of-delay ledger, step 2: every quarterly accrual becomes an opening posting; risks
learn their exact day length and the moment they were posted up to. (Data only: PostgreSQL
refuses to alter a table in the transaction that updated its rows.)"""

from decimal import Decimal

from django.db import migrations
from django.db.models import F, Sum


def _day_seconds(department) -> int:
    start = department.work_start.hour * 3600 + department.work_start.minute * 60 \
        + department.work_start.second
    end = department.work_end.hour * 3600 + department.work_end.minute * 60 \
        + department.work_end.second
    return (end or 86400) - start


def move_to_ledger(apps, schema_editor):
    Department = apps.get_model("governance", "Department")
    DelayRisk = apps.get_model("accountability", "DelayRisk")
    DelayAccrual = apps.get_model("accountability", "DelayAccrual")
    DelayPosting = apps.get_model("accountability", "DelayPosting")
    for department in Department.objects.all():
        DelayRisk.objects.filter(department=department).update(day_seconds=_day_seconds(department))
    DelayRisk.objects.update(overdue_seconds=F("overdue_hours") * 3600,
                             posted_until=F("refreshed_at"))
    batch = []
    for accrual in (DelayAccrual.objects.select_related("risk").order_by("pk").iterator(2000)):
        risk = accrual.risk
        batch.append(DelayPosting(
            risk_id=risk.pk, department_id=risk.department_id, head_id=risk.head_id,
            quarter=accrual.quarter_start, period=accrual.quarter_start,
            seconds=accrual.overdue_hours * 3600, amount=accrual.amount,
            posted_at=risk.refreshed_at, reason="opening",
            note="Moved from the quarterly accruals"))
        if len(batch) >= 2000:
            DelayPosting.objects.bulk_create(batch)
            batch = []
    DelayPosting.objects.bulk_create(batch)


def back_to_accruals(apps, schema_editor):
    """Backwards: one accrual per risk and quarter in which the time passed."""
    DelayAccrual = apps.get_model("accountability", "DelayAccrual")
    DelayPosting = apps.get_model("accountability", "DelayPosting")
    DelayAccrual.objects.bulk_create([
        DelayAccrual(risk_id=row["risk"], quarter_start=row["period"], amount=row["amount"],
                     overdue_hours=(row["seconds"] / 3600).quantize(Decimal("0.01")))
        for row in DelayPosting.objects.values("risk", "period").order_by()
        .annotate(seconds=Sum("seconds"), amount=Sum("amount"))
    ], batch_size=2000)


def back_to_day_hours(apps, schema_editor):
    DelayRisk = apps.get_model("accountability", "DelayRisk")
    for seconds in DelayRisk.objects.values_list("day_seconds", flat=True).distinct():
        DelayRisk.objects.filter(day_seconds=seconds).update(
            day_hours=(Decimal(seconds) / 3600).quantize(Decimal("0.01")))



class Migration(migrations.Migration):

    dependencies = [("accountability", "0003_cost_of_delay_ledger")]

    operations = [
        migrations.RunPython(move_to_ledger, back_to_accruals),
        migrations.RunPython(migrations.RunPython.noop, back_to_day_hours),
    ]
