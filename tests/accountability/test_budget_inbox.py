"""The inbox cards' budget line and the over-budget confirmation, on the page and the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.models import CommitmentPosting
from accountability.services.budgets import budget_set, current_quarter
from approvals.choices import StepState
from approvals.services import step_approve
from governance.models import AuditEvent
from governance.periods import quarter_label
from tests.factories import api_token


def active(request):
    return request.steps.get(state=StepState.ACTIVE)


@pytest.fixture
def budgeted(org, submit):
    """Marketing: 60,000 this quarter, 42,000 used."""
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="60000")
    used = submit(cost="42000")
    step_approve(actor=org.hank, step=active(used))
    step_approve(actor=org.fiona, step=active(used))
    return org


def test_the_heads_and_finances_cards_show_the_budget_line(client, budgeted, submit):
    request = submit(cost="6000")
    label = quarter_label(current_quarter())
    line = f"Marketing {label}: 42,000 of 60,000 EUR committed; after this request 48,000 (80 %)"
    client.force_login(budgeted.hank)
    assert line in client.get("/approvals/?view=cards").content.decode()
    step_approve(actor=budgeted.hank, step=active(request))
    client.force_login(budgeted.fiona)
    page = client.get("/approvals/?view=cards").content.decode()
    assert line in page
    assert "I approve it over budget" not in page  # within budget: nothing to confirm


def test_the_budget_line_costs_one_query_for_the_whole_page(client, budgeted, submit):
    client.force_login(budgeted.hank)
    submit(cost="100")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/approvals/?view=cards").status_code == 200
    for _ in range(8):
        submit(cost="100")
    with CaptureQueriesContext(connection) as nine:
        page = client.get("/approvals/?view=cards").content.decode()
    assert page.count("EUR committed; after this request") == 9
    assert len(nine) == len(one)


def test_approving_over_budget_on_the_page_needs_the_confirmation_and_a_reason(
        client, budgeted, submit):
    request = submit(cost="20000")
    step_approve(actor=budgeted.hank, step=active(request))
    step = active(request)
    client.force_login(budgeted.fiona)
    page = client.get("/approvals/?view=cards").content.decode()
    assert "after this request 62,000 (103 %)" in page
    assert "I approve it over budget" in page

    refused = client.post(f"/approvals/steps/{step.pk}/approve/", {"comment": "ok"},
                          HTTP_HX_REQUEST="true")
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "has €18,000.00 left and" in text and "Confirm “over budget” and say why." in text
    assert active(request) == step

    unexplained = client.post(f"/approvals/steps/{step.pk}/approve/",
                              {"over_budget": "1", "over_budget_reason": ""},
                              HTTP_HX_REQUEST="true")
    assert unexplained.status_code == 409
    assert "Say why it is approved over budget." in unexplained.content.decode()

    done = client.post(f"/approvals/steps/{step.pk}/approve/",
                       {"over_budget": "1", "over_budget_reason": "Trade fair moved to March"},
                       HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    commit = CommitmentPosting.objects.get(request=request, kind="commit")
    assert commit.over_budget_reason == "Trade fair moved to March"
    event = AuditEvent.objects.get(verb="request.over_budget", correlation=request.reference)
    assert event.actor == budgeted.fiona
    assert event.data["reason"] == "Trade fair moved to March"


def test_the_api_refuses_over_budget_without_a_reason_and_accepts_it_with_one(
        client, budgeted, submit):
    request = submit(cost="20000")
    step_approve(actor=budgeted.hank, step=active(request))
    step = active(request)
    auth = {"HTTP_AUTHORIZATION": f"Token {api_token(budgeted.fiona)}"}
    url = f"/api/v1/steps/{step.pk}/approve/"
    refused = client.post(url, {}, content_type="application/json", **auth)
    assert refused.status_code == 409
    assert refused.json()["code"] == "over_budget"
    done = client.post(url, {"over_budget_reason": "Agreed with the CFO"},
                       content_type="application/json", **auth)
    assert done.status_code == 200
    assert CommitmentPosting.objects.get(request=request, kind="commit").over_budget_reason \
        == "Agreed with the CFO"
