"""The API's answers are written with ``kit.api_views.represented``: the serializer's own fields and
code, built once per thread, so the body is the one its serializer's ``data`` gives."""

from __future__ import annotations

from types import SimpleNamespace

from approvals.api.serializers import StepSerializer
from approvals.models import Step
from governance.models import AuditEvent
from kit.api_views import represented
from requests_app.api.serializers import RequestDetailSerializer, RequestSerializer
from requests_app.models import ServiceRequest


def _read(reference: str, user) -> ServiceRequest:
    request = (ServiceRequest.objects.select_related(
        "item", "requester", "requester_department", "accountable_department", "current_step")
        .get(reference=reference))
    request.timeline_steps = list(Step.objects.filter(request=request).select_related(
        "request", "accountable_department", "accountable_head", "assignee", "decided_by",
        "acted_for").order_by("order"))
    request.timeline_events = list(AuditEvent.objects.restrict(user, about=request)
                                   .select_related("actor", "on_behalf_of")
                                   .order_by("created_at", "id"))
    return request


def test_requests_and_steps_are_written_as_their_serializers_write_them(world, org):
    # Given people who may do different things to the same requests and steps
    for who in (org.alice, org.hank, org.irene, org.olivia):
        context = {"request": SimpleNamespace(user=who)}
        for service_request in (world.laptop, world.desk, world.access):
            request = _read(service_request.reference, who)
            # Then each body is the serializer's, allowed actions included
            expected = RequestDetailSerializer(request, context=context).data
            assert represented(RequestDetailSerializer, request, context=context) == expected
            assert represented(RequestSerializer, request, context=context) \
                == RequestSerializer(request, context=context).data
            for step in request.timeline_steps:
                assert represented(StepSerializer, step, context=context) \
                    == StepSerializer(step, context=context).data


def test_each_call_answers_for_its_own_caller(world, org):
    step = Step.objects.select_related("request").get(pk=world.laptop_step.pk)
    # hank decides the laptop's head approval, alice asked for it
    as_hank = represented(StepSerializer, step, context={"request": SimpleNamespace(user=org.hank)})
    as_alice = represented(StepSerializer, step,
                           context={"request": SimpleNamespace(user=org.alice)})
    assert as_hank["allowed_actions"] == ["approve", "reject", "hold"]
    assert as_alice["allowed_actions"] == []
    # and without a caller there is nothing to offer
    assert represented(StepSerializer, step, context={})["allowed_actions"] == []


def test_a_submissions_answer_is_the_request_as_read_back(world, client_for):
    # Given a submission over the API (its 201 is written from the rows the service wrote)
    client = client_for("alice")
    created = client.post("/api/v1/requests/", {
        "item": "laptop", "title": "Laptop for Sam",
        "answers": {"details": "New hire", "model": "15-inch performance"},
        "estimated_cost": "6000"}, format="json")
    assert created.status_code == 201
    # Then it says what reading the request gives (the answers in the order they were sent)
    assert created.json() == client.get(created["Location"]).json()


def test_a_decisions_answer_is_the_step_as_read_back(world, client_for):
    client = client_for("hank")
    decided = client.post(f"/api/v1/steps/{world.laptop_step.pk}/approve/", {}, format="json")
    assert decided.status_code == 200
    assert decided.json()["state"] == "approved"
    assert decided.content == client.get(f"/api/v1/steps/{world.laptop_step.pk}/").content
