"""Adoption and bypass: requests entering through the tool versus back-filled, and approvals
decided outside the tool, counted per week on the plan."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accountability.selectors_plans import plan_adoption, plan_bypass_count
from approvals.choices import StepState
from approvals.models import Step
from approvals.services import step_approve, step_record_outside_decision
from governance.errors import AlreadyDecided, NotAllowed, ValidationFailed
from governance.models import AuditEvent
from requests_app.choices import RequestState
from requests_app.services import request_import
from tests.factories import make_plan


def active(request) -> Step:
    return request.steps.get(state=StepState.ACTIVE)


def test_an_ops_leader_records_an_emailed_approval_and_it_counts_as_a_bypass(org, submit):
    plan = make_plan(org)
    request = submit(actor=org.alice, cost="100")
    head_step = active(request)

    step_record_outside_decision(actor=org.olivia, step=head_step,
                                 reason="Hank approved by email on Monday")

    head_step.refresh_from_db()
    assert head_step.state == StepState.APPROVED
    assert head_step.decided_outside is True
    assert (head_step.decided_by, head_step.comment) == (org.olivia, "Hank approved by email on Monday")
    # The request moved on exactly as after a normal approval.
    assert active(request).name == "Fulfilment"
    event = AuditEvent.objects.get(verb="step.approved", object_id=str(head_step.pk))
    assert event.data["decided_outside"] is True
    assert plan_bypass_count(plan) == 1
    [week] = plan_adoption(plan)
    assert (week.tool, week.legacy, week.bypassed) == (1, 0, 1)


def test_a_normal_approval_is_not_a_bypass(org, submit):
    plan = make_plan(org)
    request = submit(actor=org.alice, cost="100")
    step_approve(actor=org.hank, step=active(request))
    assert plan_bypass_count(plan) == 0


def test_an_outside_rejection_closes_the_request(org, submit):
    request = submit(actor=org.alice, cost="100")
    step_record_outside_decision(actor=org.olivia, step=active(request),
                                 reason="Rejected in the budget meeting", outcome="rejected")
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert not request.steps.filter(state__in=[StepState.ACTIVE, StepState.PENDING]).exists()


def test_only_ops_leaders_record_outside_decisions_with_a_reason_on_active_approvals(org, submit):
    request = submit(actor=org.alice, cost="100")
    step = active(request)
    with pytest.raises(NotAllowed):
        step_record_outside_decision(actor=org.hank, step=step, reason="I did it by email")
    with pytest.raises(ValidationFailed):
        step_record_outside_decision(actor=org.olivia, step=step, reason="  ")
    with pytest.raises(ValidationFailed):
        step_record_outside_decision(actor=org.olivia, step=step, reason="x", outcome="maybe")
    step_approve(actor=org.hank, step=step)
    with pytest.raises(AlreadyDecided):
        step_record_outside_decision(actor=org.olivia, step=step, reason="late news")
    work = active(request)
    with pytest.raises(ValidationFailed):  # an execution step is not an approval
        step_record_outside_decision(actor=org.olivia, step=work, reason="done by phone")


def test_adoption_splits_each_week_between_the_tool_and_back_filled_requests(org, submit):
    plan = make_plan(org)
    now = timezone.now()
    submit(actor=org.alice, cost="100")
    submit(actor=org.alice, cost="200")
    request_import(actor=org.olivia, item=org.item["laptop"], requester=org.alice,
                   answers={"details": "Old", "model": "13-inch standard"}, estimated_cost="300",
                   title="From the sheet", external_key="legacy:laptop:1",
                   submitted_at=now - timedelta(minutes=5), status="fulfilled")
    request_import(actor=org.olivia, item=org.item["laptop"], requester=org.alice,
                   answers={"details": "Older", "model": "13-inch standard"}, estimated_cost="300",
                   title="From last month's sheet", external_key="legacy:laptop:2",
                   submitted_at=now - timedelta(days=35), status="fulfilled",
                   closed_at=now - timedelta(days=30))
    submit(actor=org.alice, item="access", cost="0",
           answers={"details": "x", "system": "CRM"})  # not in scope

    weeks = plan_adoption(plan)

    assert [(w.tool, w.legacy) for w in weeks] == [(0, 1), (2, 1)]
    assert weeks[-1].tool_share == 67
    assert weeks[0].week.isoweekday() == 1
