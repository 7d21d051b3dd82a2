"""Where a decision was taken (page, e-mail link, e-mail reply, API) is kept on the step and in
its audit event, and the request's timeline says it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accountability.selectors_plans import plan_bypass_count
from approvals.choices import DecisionChannel
from approvals.models import Step
from approvals.services import step_approve, step_hold, step_reject
from governance.models import AuditEvent
from tests.factories import api_token, make_plan


def _active(request) -> Step:
    return request.steps.get(state="active")


def _decision_event(step: Step) -> AuditEvent:
    return AuditEvent.objects.filter(object_id=str(step.pk), verb__in=["step.approved",
                                                                       "step.rejected"]).get()


def test_the_page_records_its_channel(org, submit, as_user):
    step = _active(submit(cost="100"))
    as_user("hank").post(f"/approvals/steps/{step.pk}/approve/", {"comment": ""})
    step.refresh_from_db()
    assert (step.state, step.channel) == ("approved", "page")
    assert _decision_event(step).data["channel"] == "page"


def test_the_api_records_its_channel(org, submit):
    step = _active(submit(cost="100"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(org.hank)}")
    response = client.post(f"/api/v1/steps/{step.pk}/reject/", {"comment": "Not now"},
                           format="json")
    assert response.status_code == 200
    assert response.json()["channel"] == "api"
    assert _decision_event(Step.objects.get(pk=step.pk)).data["channel"] == "api"


def test_an_email_reply_keeps_its_message_id_and_the_timeline_says_how(org, submit, as_user):
    request = submit(cost="6000")
    step_approve(actor=org.hank, step=_active(request), channel=DecisionChannel.EMAIL_LINK)
    finance = _active(request)
    step_approve(actor=org.fiona, step=finance, channel=DecisionChannel.EMAIL_REPLY,
                 message_id="<reply-1@mail.example.com>")

    event = _decision_event(finance)
    assert event.data["channel"] == "email_reply"
    assert event.data["message_id"] == "<reply-1@mail.example.com>"
    page = as_user("alice").get(request.get_absolute_url()).content.decode()
    assert "Approved by Hank Hughes via e-mail link" in page
    assert "Approved by Fiona Fischer by e-mail reply" in page


def test_a_question_asked_by_email_records_its_channel(org, submit):
    step = _active(submit(cost="100"))
    hold = step_hold(actor=org.hank, step=step, question="Which model?",
                     channel=DecisionChannel.EMAIL_LINK)
    event = AuditEvent.objects.get(verb="step.held", object_id=str(step.pk))
    assert (event.data["channel"], event.data["hold"]) == ("email_link", hold.pk)


def test_email_decisions_are_inside_the_tool_not_a_bypass(org, submit):
    plan = make_plan(org, items=("laptop",))
    request = submit(cost="6000")
    step_approve(actor=org.hank, step=_active(request), channel=DecisionChannel.EMAIL_LINK)
    step_reject(actor=org.fiona, step=_active(request), comment="No budget",
                channel=DecisionChannel.EMAIL_REPLY, message_id="<r@x>")
    assert plan_bypass_count(plan) == 0


def test_an_unknown_channel_decides_nothing(org, submit):
    step = _active(submit(cost="100"))
    with pytest.raises(ValueError, match="Unknown decision channel"):
        step_approve(actor=org.hank, step=step, channel="fax")
    step.refresh_from_db()
    assert step.state == "active"


def test_the_board_counts_decisions_by_channel_in_one_query(org, submit, as_user,
                                                            django_assert_num_queries):
    from accountability.board import decisions_by_channel

    first, second, third = (submit(cost="6000"), submit(cost="100"), submit(cost="100"))
    step_approve(actor=org.hank, step=_active(first), channel=DecisionChannel.EMAIL_LINK)
    step_approve(actor=org.fiona, step=_active(first), channel=DecisionChannel.EMAIL_REPLY,
                 message_id="<r@x>")
    step_approve(actor=org.hank, step=_active(second), channel=DecisionChannel.PAGE)
    step_reject(actor=org.hank, step=_active(third), comment="No", channel=DecisionChannel.API)

    with django_assert_num_queries(1):
        counts = {c.channel: c.decisions for c in decisions_by_channel([], everything=True)}
    assert counts == {"page": 1, "email_link": 1, "email_reply": 1, "api": 1}
    page = as_user("olivia").get("/dashboard/").content.decode()
    assert "Decisions by channel" in page
    for channel, label in (("page", "Page"), ("email_link", "E-mail link"),
                           ("email_reply", "E-mail reply"), ("api", "API")):
        assert f'data-label="{label}" data-channel="{channel}" class="num">1</td>' in page
