"""Closing a step resolves its open delay risk in the same transaction, with the final
figures; the resolved risk stays as history."""

from decimal import Decimal

import pytest
from delay_time import berlin
from django.db import transaction

from accountability.models import DelayRisk
from accountability.services.risks import flag_delays
from approvals.choices import StepState
from approvals.services import request_cancel, step_approve, step_reject
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

MONDAY_9 = berlin(2026, 11, 23, 9, 0)
SCAN = berlin(2026, 11, 24, 10, 0)
CLOSE = berlin(2026, 11, 24, 15, 0)  # 6 business hours after the due time


def _approve(org, step):
    step_approve(actor=org.hank, step=step, at=CLOSE)


def _reject(org, step):
    step_reject(actor=org.hank, step=step, comment="Not this quarter.", at=CLOSE)


def _cancel(org, step):
    request_cancel(actor=org.alice, request=step.request, reason="No longer needed.", at=CLOSE)


@pytest.mark.parametrize(("close", "state"), [
    (_approve, StepState.APPROVED), (_reject, StepState.REJECTED), (_cancel, StepState.CANCELLED),
])
def test_closing_the_step_resolves_its_risk_with_the_final_delay(org, overdue_step, close, state):
    step = overdue_step(MONDAY_9)
    flag_delays(now=SCAN)

    close(org, step)

    risk = DelayRisk.objects.get(step=step)
    assert risk.resolved_at == CLOSE
    assert risk.resolution == state
    assert (risk.overdue_hours, risk.exposure, risk.level) == (Decimal("6.00"), Decimal("112.50"), 2)
    # Two postings: 1 h by the scan, the 5 h since by the close; they add up to the exposure.
    assert [p.amount for p in risk.postings.all()] == [Decimal("18.75"), Decimal("93.75")]
    event = AuditEvent.objects.get(verb="risk.resolved")
    assert event.correlation == step.request.reference
    assert event.to_state == state
    # Resolved risks are history: the next scan neither reopens nor changes them.
    flag_delays(now=berlin(2026, 11, 27, 10, 0))
    assert DelayRisk.objects.get(step=step).overdue_hours == Decimal("6.00")


def test_the_completion_and_the_resolution_commit_or_roll_back_together(org, overdue_step):
    step = overdue_step(MONDAY_9)
    flag_delays(now=SCAN)

    with pytest.raises(RuntimeError), transaction.atomic():
        _approve(org, step)
        assert DelayRisk.objects.get(step=step).resolved_at == CLOSE
        raise RuntimeError("the request failed after the approval")

    assert DelayRisk.objects.open().get(step=step).overdue_hours == Decimal("1.00")
    step.refresh_from_db()
    assert step.state == StepState.ACTIVE


def test_a_step_closed_late_before_any_scan_still_leaves_its_delay_in_history(org, overdue_step):
    step = overdue_step(MONDAY_9)

    _approve(org, step)

    risk = DelayRisk.objects.get(step=step)
    assert risk.resolved_at == CLOSE
    assert (risk.head, risk.overdue_hours, risk.exposure) == (org.hank, Decimal("6.00"), Decimal("112.50"))
    assert AuditEvent.objects.get(verb="risk.resolved").data["detected_on_close"] is True


def test_a_step_closed_on_time_leaves_no_risk(org, overdue_step):
    step = overdue_step(MONDAY_9)
    step_approve(actor=org.hank, step=step, at=berlin(2026, 11, 23, 16, 0))
    assert not DelayRisk.objects.exists()


def test_a_new_overdue_step_after_the_first_gets_its_own_risk(org, overdue_step):
    step = overdue_step(MONDAY_9)
    flag_delays(now=SCAN)
    _approve(org, step)
    fulfilment = step.request.steps.get(state=StepState.ACTIVE)

    flag_delays(now=berlin(2026, 12, 4, 10, 0))

    assert DelayRisk.objects.open().get().step == fulfilment
    assert DelayRisk.objects.count() == 2
