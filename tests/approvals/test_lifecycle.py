"""The approval-to-execution path, end to end, through the services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.choices import StepState
from approvals.models import Delegation, Step
from approvals.services import (
    delegation_create,
    delegation_end,
    request_cancel,
    step_approve,
    step_claim,
    step_complete,
    step_reject,
)
from governance.errors import AlreadyDecided, Conflict, NotAllowed, ValidationFailed
from governance.models import AuditEvent
from requests_app.choices import RequestState


def active(request) -> Step:
    return request.steps.get(state=StepState.ACTIVE)


def test_over_the_threshold_the_request_goes_head_finance_it_to_fulfilled(org, submit):
    request = submit(cost="7500")

    step_approve(actor=org.hank, step=active(request), comment="Within plan")
    finance = active(request)
    assert finance.name == "Finance approval"
    assert finance.accountable_head == org.fiona
    step_approve(actor=org.fiona, step=finance)
    work = active(request)
    assert (work.name, work.accountable_department.code) == ("Fulfilment", "IT")
    request.refresh_from_db()
    assert request.state == RequestState.IN_PROGRESS

    step_claim(actor=org.ivan, step=work)
    step_complete(actor=org.ivan, step=work, note="Delivered to desk 4")

    request.refresh_from_db()
    assert request.state == RequestState.FULFILLED
    assert request.closed_at is not None
    assert request.current_step is None
    verbs = list(
        AuditEvent.objects.filter(correlation=request.reference).values_list("verb", flat=True)
    )
    assert verbs == [
        "request.submitted", "step.activated",
        "step.approved", "step.activated",
        "step.approved", "step.activated", "request.in_progress",
        "step.claimed", "step.done", "request.fulfilled",
    ]
    head = request.steps.get(name="Head approval")
    assert (head.decided_by, head.comment) == (org.hank, "Within plan")


def test_under_the_threshold_finance_is_skipped(org, submit):
    request = submit(cost="100")
    step_approve(actor=org.hank, step=active(request))
    assert active(request).name == "Fulfilment"
    assert request.steps.get(name="Finance approval").state == StepState.SKIPPED


def test_rejection_ends_the_request_and_activates_nothing(org, submit):
    request = submit(cost="9000")
    step_reject(actor=org.hank, step=active(request), comment="Use the spare pool laptop")

    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert not request.steps.filter(state__in=[StepState.ACTIVE, StepState.PENDING]).exists()
    assert list(request.steps.values_list("state", flat=True).order_by("order")) == [
        StepState.REJECTED, StepState.CANCELLED, StepState.CANCELLED,
    ]


def test_rejecting_needs_a_reason(org, submit):
    request = submit()
    with pytest.raises(ValidationFailed) as caught:
        step_reject(actor=org.hank, step=active(request), comment="  ")
    assert caught.value.code == "comment_required"
    assert active(request).name == "Head approval"


def test_requester_cancels_while_open(org, submit):
    request = submit()
    step = active(request)
    request_cancel(actor=org.alice, request=request, reason="Found one in the cupboard")

    request.refresh_from_db()
    step.refresh_from_db()
    assert request.state == RequestState.CANCELLED
    assert step.state == StepState.CANCELLED
    with pytest.raises(Conflict):
        request_cancel(actor=org.alice, request=request)


def test_only_the_requester_or_an_ops_leader_cancels(org, submit):
    request = submit()
    with pytest.raises(NotAllowed):
        request_cancel(actor=org.bob, request=request)
    request_cancel(actor=org.olivia, request=request, reason="Duplicate")
    request.refresh_from_db()
    assert request.state == RequestState.CANCELLED


def test_someone_else_cannot_decide(org, submit):
    request = submit()
    for outsider in (org.bob, org.fiona, org.ivan, org.olivia):
        with pytest.raises(NotAllowed):
            step_approve(actor=outsider, step=active(request))
    assert active(request).name == "Head approval"


def test_a_decided_step_cannot_be_decided_again(org, submit):
    request = submit()
    step = active(request)
    step_approve(actor=org.hank, step=step)
    with pytest.raises(AlreadyDecided, match="already approved by"):
        step_reject(actor=org.hank, step=step, comment="changed my mind")


def test_a_delegate_decides_for_the_head_and_the_timeline_says_so(org, submit):
    today = timezone.localdate()
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=today, ends_on=today)
    request = submit()
    step = step_approve(actor=org.bob, step=active(request), comment="Covering for Hank")

    assert (step.decided_by, step.acted_for) == (org.bob, org.hank)
    event = AuditEvent.objects.get(correlation=request.reference, verb="step.approved")
    assert (event.actor, event.on_behalf_of) == (org.bob, org.hank)


def test_requester_never_approves_their_own_request_even_as_a_delegate(org, submit):
    today = timezone.localdate()
    delegation_create(actor=org.hank, delegate=org.alice, starts_on=today, ends_on=today)
    request = submit(actor=org.alice)
    with pytest.raises(NotAllowed, match="your own request"):
        step_approve(actor=org.alice, step=active(request))


def test_an_ended_or_future_delegation_gives_no_power(org, submit):
    today = timezone.localdate()
    delegation = delegation_create(actor=org.hank, delegate=org.bob, starts_on=today, ends_on=today)
    delegation_end(actor=org.hank, delegation=delegation)
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=today + timedelta(days=3),
                      ends_on=today + timedelta(days=5))
    request = submit()
    with pytest.raises(NotAllowed):
        step_approve(actor=org.bob, step=active(request))


def test_overlapping_delegations_are_refused(org):
    today = timezone.localdate()
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=today, ends_on=today + timedelta(days=4))
    with pytest.raises(Conflict, match="already delegate"):
        delegation_create(actor=org.hank, delegate=org.alice, starts_on=today + timedelta(days=2),
                          ends_on=today + timedelta(days=8))
    assert Delegation.objects.count() == 1


def test_finance_approver_role_may_decide_finance_steps(org, submit):
    request = submit(cost="8000")
    step_approve(actor=org.hank, step=active(request))
    step = step_approve(actor=org.felix, step=active(request))
    assert step.decided_by == org.felix and step.acted_for is None


def test_only_agents_of_the_department_complete_execution(org, submit):
    request = submit(cost="10")
    step_approve(actor=org.hank, step=active(request))
    work = active(request)
    for wrong in (org.irene, org.fred, org.alice):
        with pytest.raises(NotAllowed):
            step_complete(actor=wrong, step=work)
    with pytest.raises(ValidationFailed):
        step_approve(actor=org.hank, step=work)
    step_complete(actor=org.isaac, step=work)
    request.refresh_from_db()
    assert request.state == RequestState.FULFILLED


def test_handoff_between_departments_records_activation_times(org, submit):
    request = submit(item="purchase", answers={"details": "Standing desks"}, cost="25000")
    step_approve(actor=org.hank, step=active(request))
    step_approve(actor=org.fiona, step=active(request))
    step_approve(actor=org.leo, step=active(request))
    purchase = active(request)
    assert purchase.accountable_department.code == "PRO"
    step_complete(actor=org.petra, step=purchase)
    delivery = active(request)
    assert delivery.accountable_department.code == "PRO"  # purchases are fulfilled by Procurement
    purchase.refresh_from_db()
    assert delivery.activated_at == purchase.completed_at
