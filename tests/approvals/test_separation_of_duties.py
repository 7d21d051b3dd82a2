"""Separation of duties across levels: nobody decides two approval steps of one request, as
head, deputy, approver or delegate, through any route (service, page, API, the database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals.choices import StepState
from approvals.models import Delegation, Step
from approvals.services import delegation_create, step_approve, step_hold, step_reject
from governance.errors import NotAllowed, ValidationFailed
from tests.factories import api_token

pytestmark = pytest.mark.postgres


def active(request) -> Step:
    return request.steps.get(state=StepState.ACTIVE)


def approval_heads(request) -> list[str]:
    return [s.accountable_head.username for s in
            request.steps.filter(kind="approval").exclude(state=StepState.SKIPPED)
            .order_by("order")]


def delegate(org, *, frm, to):
    """A delegation in place (given in the admin, or before delegates were limited to one's
    department and the head above): separation of duties must hold whatever delegations
    exist."""
    today = timezone.localdate()
    return Delegation.objects.create(delegator=frm, delegate=to, starts_on=today,
                                     ends_on=today + timedelta(days=7))


def api(user):
    from rest_framework.test import APIClient
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


# --- Head + delegate of finance ----------------------------------------------------------
@pytest.fixture
def hank_holds_finance(org, submit):
    """Fiona (head of Finance) lets Hank (head of Marketing) decide for her; Hank approved
    Alice's laptop as her head. The finance step now waits for Fiona."""
    delegate(org, frm=org.fiona, to=org.hank)
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active(request))
    finance = active(request)
    assert (finance.name, finance.accountable_head) == ("Finance approval", org.fiona)
    return request, finance


def test_a_head_holding_finances_delegation_cannot_approve_the_finance_step(org, hank_holds_finance):
    request, finance = hank_holds_finance
    with pytest.raises(NotAllowed) as refused:
        step_approve(actor=org.hank, step=finance)
    assert refused.value.code == "separation_of_duties"
    assert "You already approved “Head approval” as head" in refused.value.message
    for attempt in (lambda: step_reject(actor=org.hank, step=finance, comment="No"),
                    lambda: step_hold(actor=org.hank, step=finance, question="Why?")):
        with pytest.raises(NotAllowed):
            attempt()
    assert finance.allowed_actions(org.hank) == []
    assert not Step.objects.restrict(org.hank, "decide").filter(pk=finance.pk).exists()
    step_approve(actor=org.fiona, step=finance)  # the head of Finance still decides


def test_the_page_and_the_api_refuse_it_and_the_inbox_says_why(org, hank_holds_finance, client):
    request, finance = hank_holds_finance
    client.force_login(org.hank)
    page = client.post(f"/approvals/steps/{finance.pk}/approve/")
    assert page.status_code == 403
    inbox = client.get("/approvals/").content.decode()
    assert "Not yours to decide" in inbox
    assert request.reference in inbox
    assert "You already approved “Head approval” as head" in inbox
    response = api(org.hank).post(f"/api/v1/steps/{finance.pk}/approve/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "separation_of_duties")
    listed = api(org.hank).get("/api/v1/steps/?role=decide").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert finance.pk not in [row["id"] for row in rows]
    finance.refresh_from_db()
    assert finance.state == StepState.ACTIVE


def test_the_head_above_holding_finances_delegation_cannot_clear_both_levels(org, submit):
    """Fiona lets Oscar, the head above her, decide while she is away; Dave works in
    Operations, so Oscar approves his request as head and would approve it for Finance."""
    today = timezone.localdate()
    delegation_create(actor=org.fiona, delegate=org.oscar, starts_on=today,
                      ends_on=today + timedelta(days=3))
    request = submit(actor=org.dave, cost="7500")
    step_approve(actor=org.oscar, step=active(request))
    finance = active(request)
    with pytest.raises(NotAllowed) as refused:
        step_approve(actor=org.oscar, step=finance)
    assert refused.value.code == "separation_of_duties"
    step_approve(actor=org.felix, step=finance)  # an approver of Finance decides instead


# --- A department approver -------------------------------------------------------------
def test_an_approver_who_approved_as_delegate_cannot_approve_as_approver(org, submit):
    """Felix (an approver of Finance) decides for Hank while he is away, then would approve
    the finance step in his own approver role."""
    delegate(org, frm=org.hank, to=org.felix)
    request = submit(cost="7500")
    step_approve(actor=org.felix, step=active(request))
    finance = active(request)
    with pytest.raises(NotAllowed) as refused:
        step_approve(actor=org.felix, step=finance)
    assert refused.value.code == "separation_of_duties"
    assert "as delegate of Hank Hughes" in refused.value.message
    response = api(org.felix).post(f"/api/v1/steps/{finance.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    # And Hank, for whom Felix decided the head step, cannot take the finance step either.
    delegate(org, frm=org.fiona, to=org.hank)
    with pytest.raises(NotAllowed):
        step_approve(actor=org.hank, step=finance)
    step_approve(actor=org.fiona, step=finance)


# --- Finance staff requester --------------------------------------------------------------
def test_finance_staffs_request_goes_to_two_different_people(org, submit):
    """Felix works in Finance: his head and the finance approver are both Fiona. The finance
    step goes up to the head of Operations instead."""
    request = submit(actor=org.felix, cost="7500")
    assert approval_heads(request) == ["fiona", "oscar"]
    step_approve(actor=org.fiona, step=active(request))
    finance = active(request)
    with pytest.raises(NotAllowed):
        step_approve(actor=org.fiona, step=finance)
    step_approve(actor=org.oscar, step=finance)


def test_finance_staffs_request_goes_to_the_deputy_when_there_is_one(org, submit):
    finance = org.dept["FIN"]
    finance.deputy = org.finn
    finance.save(update_fields=["deputy"])
    request = submit(actor=org.felix, cost="7500")
    assert approval_heads(request) == ["fiona", "finn"]


# --- A head's own request ---------------------------------------------------------------
def test_a_heads_own_request_is_refused_naming_what_to_configure(org, submit):
    """Fiona's own laptop: her head step and the finance step would both go up to Oscar,
    and Operations has no deputy and nothing above it."""
    with pytest.raises(ValidationFailed) as refused:
        submit(actor=org.fiona, cost="7500")
    assert refused.value.code == "no_separate_approver"
    assert "name a deputy for Operations" in refused.value.message


def test_a_heads_own_request_goes_to_the_deputy_above(org, submit):
    operations = org.dept["OPS"]
    operations.deputy = org.dave
    operations.save(update_fields=["deputy"])
    request = submit(actor=org.fiona, cost="7500")
    assert approval_heads(request) == ["oscar", "dave"]
    step_approve(actor=org.oscar, step=active(request))
    with pytest.raises(NotAllowed):
        step_approve(actor=org.oscar, step=active(request))


def test_the_api_refuses_a_heads_own_request_with_the_message(org, client):
    response = api(org.fiona).post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "Mine", "model": "13-inch standard"},
        "estimated_cost": "7500"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "no_separate_approver")


# --- The database ----------------------------------------------------------------------
def test_the_database_refuses_a_second_decision_by_the_same_person(org, submit):
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active(request))
    finance = active(request)
    with pytest.raises(IntegrityError), transaction.atomic():
        Step.objects.filter(pk=finance.pk).update(
            state=StepState.APPROVED, decided_by=org.hank, completed_at=timezone.now())
    # As a delegate for the same head, too (acted_for).
    with pytest.raises(IntegrityError), transaction.atomic():
        Step.objects.filter(pk=finance.pk).update(
            state=StepState.APPROVED, decided_by=org.bob, acted_for=org.hank,
            completed_at=timezone.now())
    Step.objects.filter(pk=finance.pk).update(
        state=StepState.APPROVED, decided_by=org.fiona, completed_at=timezone.now())
