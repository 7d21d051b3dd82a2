"""The tests' factories, in one module. Hand-written on purpose: the tests build on the demo
organisation (the ``org`` fixture) and reach most states through the services, as users do;
these helpers add only the rows a test needs beside that.

Accountability: the dashboards and reports only read
DelayRisk and DelayPosting rows (the cost-of-delay ledger). Those rows come from the delay scan and, for every step that
closes after its due time, from ``risk_resolve_for_step`` on close (whether a scan ran or
not): a history that closes a step late has that risk too. ``make_risk`` adds hand-made rows
on top; ``working_day`` / ``working_days_before`` place moments in a department's calendar so
a late closure's figures can be computed by hand.

Change plans: ``make_plan`` and ``make_workflow`` over the demo catalog."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from accountability.models import ChangePlan, DelayPosting, DelayRisk, LegacyWorkflow
from approvals.choices import StepState
from approvals.models import Step
from governance.calendar import BusinessCalendar
from governance.services.tokens import api_token_create


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware moment on ``day`` in the reporting timezone."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(settings.SRM_REPORTING_TIMEZONE))


def working_day(calendar: BusinessCalendar, day: date, *, step: int = 1) -> date:
    """``day`` if it is a working day in ``calendar``, else the nearest one after it
    (``step=1``) or before it (``step=-1``)."""
    while not calendar.is_working_day(day):
        day += timedelta(days=step)
    return day


def working_days_before(calendar: BusinessCalendar, day: date, count: int) -> date:
    """The working day ``count`` working days before ``day`` in ``calendar``."""
    for _ in range(count):
        day = working_day(calendar, day - timedelta(days=1), step=-1)
    return day


def active_step(request) -> Step:
    return request.steps.select_related("accountable_head").get(state=StepState.ACTIVE)


def make_risk(step: Step, *, detected_at: datetime, exposure: str = "0", level: int = 1,
              resolved_at: datetime | None = None,
              accruals: dict[date, str] | None = None) -> DelayRisk:
    """A delay risk on ``step`` with postings ``{quarter: amount}`` (each in its own quarter)."""
    risk = DelayRisk.objects.create(
        step=step, request_id=step.request_id, department_id=step.accountable_department_id,
        head_id=step.accountable_head_id, detected_at=detected_at, level=level,
        overdue_hours=Decimal("1"), overdue_seconds=Decimal("3600"),
        cost_of_delay_per_day=Decimal("100"), day_seconds=8 * 3600, exposure=Decimal(exposure),
        posted_until=detected_at, refreshed_at=detected_at, resolved_at=resolved_at,
    )
    for quarter, amount in (accruals or {}).items():
        DelayPosting.objects.create(
            risk=risk, department_id=risk.department_id, head_id=risk.head_id, quarter=quarter,
            period=quarter, seconds=Decimal("3600"), amount=Decimal(amount),
            posted_at=detected_at, reason="scan")
    return risk


# --- Change plans: a plan over the demo catalog ---------------------------------------------
def make_plan(org, *, items=("laptop",), sponsor=None, go_live_in=14, **kwargs) -> ChangePlan:
    today = timezone.localdate()
    plan = ChangePlan.objects.create(
        name=kwargs.pop("name", "Laptops through SRM"),
        sponsor=sponsor or org.irene,
        go_live_on=today + timedelta(days=go_live_in),
        value_target_on=today + timedelta(days=go_live_in + 90),
        **kwargs,
    )
    plan.items.set([org.item[code] for code in items])
    return plan


def make_workflow(org, plan, *, retire_in=7, dept="MKT", **kwargs) -> LegacyWorkflow:
    return LegacyWorkflow.objects.create(
        plan=plan,
        name=kwargs.pop("name", "Laptop approvals by email"),
        channel=kwargs.pop("channel", "email"),
        owning_department=org.dept[dept],
        replaced_by=kwargs.pop("replaced_by", org.item["laptop"]),
        retire_by=timezone.localdate() + timedelta(days=retire_in),
        **kwargs,
    )


def api_token(user, *, name: str = "tests", days: int | None = None) -> str:
    """A new API token of ``user``: its secret (what a client sends)."""
    return api_token_create(user=user, name=name, days=days, actor=user)[1]
