"""Demo budgets: every cost centre has one for the demo's quarters and the next, so the
budget report, the inbox cards' budget line and the over-budget confirmation have something to
show. Called by ``seed_demo`` after the requests (whose approvals already booked their
commitments); set through the service, as finance would, so the audit trail is the real one.
Idempotent: a budget already set is left as it is."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from accountability.models import Budget
from accountability.services.budgets import budget_set, current_quarter, used_in
from governance.models import Department, User
from governance.periods import next_quarter, previous_quarter

# What each cost centre may spend per quarter; Marketing is kept tight in the current quarter
# (a campaign request takes it over budget).
BASE = Decimal("80000")
TIGHT = Decimal("15000")  # left in Marketing's current quarter


def seed_budgets(now: datetime | None = None) -> int:
    now = now or timezone.now()
    fiona = User.objects.get(username="fiona")
    current = current_quarter(now)
    quarters = [previous_quarter(previous_quarter(current)), previous_quarter(current), current,
                next_quarter(current)]
    created = 0
    for department in Department.objects.exclude(cost_centre=""):
        for quarter in quarters:
            if Budget.objects.filter(department=department, quarter=quarter).exists():
                continue
            amount = BASE
            if department.code == "MKT" and quarter == current:
                amount = max(used_in(department.pk, quarter) + TIGHT, TIGHT)
            budget_set(actor=fiona, department=department, quarter=quarter, amount=amount,
                       at=now)
            created += 1
    return created
