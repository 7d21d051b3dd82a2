"""The actual cost at fulfilment: recorded by the agent for items that record it, read as the
portal reads amounts, and back to finance before fulfilment when it reaches a threshold the
estimate stayed below."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accountability.models import Notification
from approvals.choices import StepState
from approvals.services import step_approve, step_complete
from governance.errors import ValidationFailed
from governance.models import AuditEvent
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest
from requests_app.money import money_format
from tests.factories import api_token


def active(request):
    return request.steps.get(state=StepState.ACTIVE)


@pytest.fixture
def records(org):
    item = org.item["laptop"]
    item.records_actual_cost = True
    item.save(update_fields=["records_actual_cost"])
    return item


@pytest.fixture
def at_fulfilment(org, submit, records):
    """Alice's laptop estimated at 100 EUR (finance skipped), approved by Hank, with IT."""
    request = submit(cost="100")
    step_approve(actor=org.hank, step=active(request))
    assert request.steps.get(name="Finance approval").state == StepState.SKIPPED
    return request


def test_an_actual_cost_at_the_threshold_goes_back_to_finance_before_fulfilment(
        org, at_fulfilment, settings):
    settings.SRM_LIFECYCLE_NOTICES = True
    request = at_fulfilment
    step_complete(actor=org.ivan, step=active(request), note="Delivered",
                  actual_cost="7.500,00", money=money_format(language="de"))

    request.refresh_from_db()
    assert (request.state, request.actual_cost) == (RequestState.IN_APPROVAL, Decimal("7500.00"))
    finance = active(request)
    assert (finance.name, finance.accountable_head, finance.order) == (
        "Finance approval", org.fiona, 4)
    verbs = list(AuditEvent.objects.filter(correlation=request.reference)
                 .order_by("created_at", "id").values_list("verb", flat=True))
    assert verbs[-5:] == ["step.done", "request.actual_cost_recorded",
                          "request.back_to_finance", "step.activated", "request.in_approval"]
    back = AuditEvent.objects.get(correlation=request.reference, verb="request.back_to_finance")
    assert back.data["steps"] == [{"step": "Finance approval", "head": "fiona"}]
    assert Notification.objects.filter(recipient=org.fiona).exists()

    step_approve(actor=org.fiona, step=finance)
    request.refresh_from_db()
    assert request.state == RequestState.FULFILLED


def test_below_the_threshold_the_request_is_fulfilled(org, at_fulfilment):
    step_complete(actor=org.ivan, step=active(at_fulfilment), actual_cost="4,999.99")
    at_fulfilment.refresh_from_db()
    assert (at_fulfilment.state, at_fulfilment.actual_cost) == (
        RequestState.FULFILLED, Decimal("4999.99"))


def test_finance_that_approved_the_estimate_is_not_asked_again(org, submit, records):
    request = submit(cost="6000")
    step_approve(actor=org.hank, step=active(request))
    step_approve(actor=org.fiona, step=active(request))
    step_complete(actor=org.ivan, step=active(request), actual_cost="9000")
    request.refresh_from_db()
    assert request.state == RequestState.FULFILLED


@pytest.mark.parametrize(("value", "code"), [
    (None, "actual_cost_required"), ("", "actual_cost_required"),
    ("6,500", "invalid_cost"), ("1e4", "invalid_cost"), ("-5", "invalid_cost"),
])
def test_a_missing_or_unreadable_actual_cost_is_refused_and_nothing_changes(
        org, at_fulfilment, value, code):
    step = active(at_fulfilment)
    with pytest.raises(ValidationFailed) as refused:
        step_complete(actor=org.ivan, step=step, actual_cost=value,
                      money=money_format(language="de"))
    assert refused.value.code == code
    assert "actual_cost" in refused.value.field_errors
    step.refresh_from_db()
    assert step.state == StepState.ACTIVE


def test_an_item_that_does_not_record_it_refuses_one(org, submit):
    request = submit(item="access", cost="0", answers={"details": "BI", "system": "BI"})
    step_approve(actor=org.hank, step=active(request))
    with pytest.raises(ValidationFailed) as refused:
        step_complete(actor=org.ivan, step=active(request), actual_cost="10")
    assert refused.value.code == "actual_cost_not_recorded"
    step_complete(actor=org.ivan, step=active(request))  # nothing asked: fulfilled
    assert ServiceRequest.objects.get(pk=request.pk).actual_cost is None


def test_the_api_and_the_page_record_it_the_same_way(org, at_fulfilment, client):
    from rest_framework.test import APIClient

    step = active(at_fulfilment)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(org.ivan)}")
    refused = api.post(f"/api/v1/steps/{step.pk}/complete/", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "actual_cost_required")
    done = api.post(f"/api/v1/steps/{step.pk}/complete/", {"actual_cost": "7500"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200, done.json()
    detail = api.get(f"/api/v1/requests/{at_fulfilment.reference}/").json()
    assert (detail["state"], detail["actual_cost"]) == ("in_approval", "7500.00")

    other = ServiceRequest.objects.exclude(pk=at_fulfilment.pk)
    assert not other.filter(actual_cost__isnull=False).exists()


def test_the_work_queue_asks_for_the_actual_cost(org, at_fulfilment, client):
    step = active(at_fulfilment)
    client.force_login(org.ivan)
    assert 'name="actual_cost"' in client.get("/work/").content.decode()
    response = client.post(f"/work/steps/{step.pk}/complete/",
                           {"note": "Delivered", "actual_cost": "7.500,00"},
                           HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302
    at_fulfilment.refresh_from_db()
    assert (at_fulfilment.state, at_fulfilment.actual_cost) == (
        RequestState.IN_APPROVAL, Decimal("7500.00"))
    page = client.get(f"/portal/requests/{at_fulfilment.reference}/").content.decode()
    assert "Actual cost" in page and "Back to finance (actual cost)" in page
