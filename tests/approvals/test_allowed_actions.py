"""What the pages and the API offer is exactly what the services accept.

For every person of the demo and requests in each situation a person meets (an approval
waiting, the same on hold, a finance approval, work nobody has taken, work a colleague has
taken, a closed request), each action of ``StepAction`` and ``RequestAction`` is tried
through its service (and rolled back): the ones accepted are exactly the model's
``allowed_actions(user)``, which the templates and the API's ``allowed_actions`` read."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from approvals.choices import StepAction, StepState
from approvals.models import Step
from approvals.services import (
    request_cancel,
    step_answer,
    step_approve,
    step_claim,
    step_complete,
    step_hold,
    step_reject,
    step_take_over,
)
from governance.choices import AuditVerb
from governance.errors import Conflict, DomainError
from governance.models import AuditEvent
from requests_app.choices import RequestAction
from requests_app.models import ServiceRequest
from requests_app.services_conversation import comment_add
from tests.factories import api_token

PEOPLE = ["alice", "bob", "hank", "fiona", "felix", "finn", "ivan", "isaac", "irene", "oscar",
          "olivia", "mia", "carol", "admin"]


class _Undo(Exception):
    pass


def accepted(action) -> bool:
    """Did the service accept it? Whatever it changed is rolled back."""
    try:
        with transaction.atomic():
            action()
            raise _Undo
    except _Undo:
        return True
    except DomainError:
        return False


def step_tries(user, step_id):
    def fresh():
        return Step.objects.get(pk=step_id)
    return {
        StepAction.APPROVE: lambda: step_approve(actor=user, step=fresh(), comment="ok"),
        StepAction.REJECT: lambda: step_reject(actor=user, step=fresh(), comment="no"),
        StepAction.HOLD: lambda: step_hold(actor=user, step=fresh(), question="Which model?"),
        StepAction.CLAIM: lambda: step_claim(actor=user, step=fresh()),
        StepAction.TAKE_OVER: lambda: step_take_over(actor=user, step=fresh()),
        StepAction.COMPLETE: lambda: step_complete(actor=user, step=fresh(), note="done"),
    }


def request_tries(user, request_id):
    def fresh():
        return ServiceRequest.objects.get(pk=request_id)

    def answer():
        step = Step.objects.filter(request_id=request_id, state=StepState.ACTIVE).first()
        if step is None:
            # What the API's answer endpoint says when no step is left to answer.
            raise Conflict("No open question.", code="no_open_question")
        step_answer(actor=user, step=step, answer="The 13-inch one.")
    return {
        RequestAction.CANCEL: lambda: request_cancel(actor=user, request=fresh(), reason="x"),
        RequestAction.COMMENT: lambda: comment_add(actor=user, request=fresh(), body="Hello"),
        RequestAction.NOTE: lambda: comment_add(actor=user, request=fresh(), body="Internal",
                                                internal=True),
        RequestAction.ANSWER: answer,
    }


@pytest.fixture
def situations(org, submit):
    """One request per situation, keyed by name."""
    def active(request):
        return request.steps.get(state=StepState.ACTIVE)

    waiting = submit(cost="7500", title="Waiting for the head")
    held = submit(cost="7500", title="Head asked a question")
    step_hold(actor=org.hank, step=active(held), question="Which model exactly?")
    finance = submit(cost="7500", title="Waiting for finance")
    step_approve(actor=org.hank, step=active(finance))
    unclaimed = submit(item="access", cost="0", title="Work nobody took",
                       answers={"details": "Reports", "system": "BI"})
    step_approve(actor=org.hank, step=active(unclaimed))
    claimed = submit(item="access", cost="0", title="Work Ivan took",
                     answers={"details": "Reports", "system": "BI"})
    step_approve(actor=org.hank, step=active(claimed))
    step_claim(actor=org.ivan, step=active(claimed))
    closed = submit(cost="100", title="Cancelled")
    request_cancel(actor=org.alice, request=closed, reason="Not needed")
    return {"waiting": waiting, "held": held, "finance": finance, "unclaimed": unclaimed,
            "claimed": claimed, "closed": closed}


@pytest.mark.parametrize("situation", ["waiting", "held", "finance", "unclaimed", "claimed",
                                       "closed"])
def test_listed_actions_are_exactly_those_the_services_accept(org, situations, situation):
    request = situations[situation]
    steps = list(request.steps.order_by("order"))
    compared = 0
    for username in PEOPLE:
        user = getattr(org, username)
        listed = ServiceRequest.objects.get(pk=request.pk).allowed_actions(user)
        tried = [str(a) for a, act in request_tries(user, request.pk).items() if accepted(act)]
        assert listed == tried, (situation, username, "request")
        for step in steps:
            listed = Step.objects.get(pk=step.pk).allowed_actions(user)
            tried = [str(a) for a, act in step_tries(user, step.pk).items() if accepted(act)]
            assert listed == tried, (situation, username, step.name)
            compared += 1
    assert compared == len(PEOPLE) * len(steps)


def fresh(request):
    return ServiceRequest.objects.get(pk=request.pk)


def test_each_demo_role_is_offered_what_its_job_needs(org, situations):
    """The comparison above is not vacuous: the roles get the actions they exist for."""
    def actions(situation, username):
        request = situations[situation]
        step = request.steps.filter(state=StepState.ACTIVE).first()
        return step.allowed_actions(getattr(org, username)) if step else []

    assert actions("waiting", "hank") == ["approve", "reject", "hold"]
    assert actions("waiting", "alice") == []
    assert actions("held", "hank") == ["approve", "reject"]
    assert fresh(situations["held"]).allowed_actions(org.alice) == ["cancel", "comment", "answer"]
    assert actions("finance", "fiona") == ["approve", "reject", "hold"]
    assert actions("finance", "felix") == ["approve", "reject", "hold"]  # FIN approver
    assert actions("unclaimed", "ivan") == ["hold", "claim", "complete"]
    assert actions("claimed", "ivan") == ["hold", "complete"]
    assert actions("claimed", "isaac") == ["hold", "take_over"]
    assert actions("claimed", "irene") == []  # head of IT, not an agent
    assert fresh(situations["closed"]).allowed_actions(org.alice) == ["comment"]
    assert fresh(situations["waiting"]).allowed_actions(org.olivia) == ["cancel", "comment", "note"]


def test_taking_over_a_colleagues_step_is_explicit_and_recorded(org, situations):
    request = situations["claimed"]
    step = request.steps.get(state=StepState.ACTIVE)
    assert not accepted(lambda: step_complete(actor=org.isaac, step=step))
    assert not accepted(lambda: step_claim(actor=org.isaac, step=step))

    step_take_over(actor=org.isaac, step=step, reason="Ivan is off sick")
    step_complete(actor=org.isaac, step=step, note="Granted")

    event = AuditEvent.objects.get(correlation=request.reference,
                                   verb=AuditVerb.STEP_TAKEN_OVER)
    assert (event.actor, event.data["previous_assignee"], event.data["reason"]) == (
        org.isaac, "ivan", "Ivan is off sick")
    step.refresh_from_db()
    assert (step.state, step.assignee, step.decided_by) == (StepState.DONE, org.isaac, org.isaac)


@pytest.fixture
def client_for(org):
    def _client(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
        return client
    return _client


@pytest.mark.parametrize("situation", ["waiting", "held", "claimed"])
def test_the_api_lists_the_models_actions(org, situations, client_for, situation):
    request = situations[situation]
    for username in ["alice", "hank", "fiona", "ivan", "isaac", "olivia"]:
        user = getattr(org, username)
        response = client_for(user).get(f"/api/v1/requests/{request.reference}/")
        if response.status_code == 404:
            continue
        body = response.json()
        assert body["allowed_actions"] == fresh(request).allowed_actions(user), username
        for shown in body["steps"]:
            step = Step.objects.get(pk=shown["id"])
            assert shown["allowed_actions"] == step.allowed_actions(user), (username, step.name)
    step = request.steps.get(state=StepState.ACTIVE)
    listed = client_for(org.isaac).get("/api/v1/steps/?role=work").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    mine = [row for row in rows if row["id"] == step.pk]
    if situation == "claimed":
        assert mine[0]["allowed_actions"] == ["hold", "take_over"]


def test_the_api_takes_over_with_the_reason(org, situations, client_for):
    step = situations["claimed"].steps.get(state=StepState.ACTIVE)
    isaac = client_for(org.isaac)
    refused = isaac.post(f"/api/v1/steps/{step.pk}/complete/", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "claimed_by_other")
    taken = isaac.post(f"/api/v1/steps/{step.pk}/take-over/", {"reason": "Covering"},
                       format="json")
    assert taken.status_code == 200, taken.json()
    assert taken.json()["assignee"]["username"] == "isaac"
    assert taken.json()["allowed_actions"] == ["hold", "complete"]


def test_the_work_queue_offers_a_take_over_not_mark_done_on_a_colleagues_step(
        org, situations, client):
    step = situations["claimed"].steps.get(state=StepState.ACTIVE)
    client.force_login(org.isaac)
    page = client.get("/work/").content.decode()
    row = page[page.index(f'id="step-{step.pk}"'):]
    row = row[:row.index("</article>")]
    assert "Take over from Ivan" in row and "Mark done" not in row and "Take it" not in row
    refused = client.post(f"/work/steps/{step.pk}/complete/", {"note": "x"})
    assert refused.status_code == 409
    client.post(f"/work/steps/{step.pk}/take-over/")
    step.refresh_from_db()
    assert step.assignee == org.isaac
    client.force_login(org.ivan)
    page = client.get(f"/portal/requests/{situations['claimed'].reference}/").content.decode()
    assert "Take over from Isaac" in page and "Mark done" not in page
