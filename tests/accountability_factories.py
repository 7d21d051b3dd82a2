"""Test helpers for the accountability layer. The delay scan (which writes DelayRisk and
DelayAccrual) belongs to another area, so tests create those rows directly here; the
dashboards and reports only read them."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from approvals.choices import StepState
from approvals.models import Step
from governance.models import DelayAccrual, DelayRisk


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware moment on ``day`` in the reporting timezone."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(settings.SRM_REPORTING_TIMEZONE))


def active_step(request) -> Step:
    return request.steps.select_related("accountable_head").get(state=StepState.ACTIVE)


def make_risk(step: Step, *, detected_at: datetime, exposure: str = "0", level: int = 1,
              resolved_at: datetime | None = None,
              accruals: dict[date, str] | None = None) -> DelayRisk:
    """A delay risk on ``step`` with its quarterly accruals ``{quarter_start: amount}``."""
    risk = DelayRisk.objects.create(
        step=step, request_id=step.request_id, department_id=step.accountable_department_id,
        head_id=step.accountable_head_id, detected_at=detected_at, level=level,
        overdue_hours=Decimal("1"), cost_of_delay_per_day=Decimal("100"),
        day_hours=Decimal("8"), exposure=Decimal(exposure), refreshed_at=detected_at,
        resolved_at=resolved_at,
    )
    for quarter, amount in (accruals or {}).items():
        DelayAccrual.objects.create(risk=risk, quarter_start=quarter,
                                    overdue_hours=Decimal("1"), amount=Decimal(amount))
    return risk
