"""Deciding by e-mail reply holds every rule the page holds: the decision is the approval
services', with the sender as the actor. Each outcome is recorded once by Message-ID, audited
and answered (never an automatic mail)."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from accountability.mailin.address import reply_address
from accountability.models import AnswerStatus, InboundMessage, InboundOutcome
from accountability.services.replies import DUPLICATE, inbound_answers_send, inbound_reply_process
from approvals.choices import StepState
from approvals.models import Delegation, Step
from approvals.services import delegation_end, step_approve
from governance.models import AuditEvent, User
from governance.services.org import department_set_head
from tests.accountability import mail_samples

pytestmark = pytest.mark.postgres

DOMAIN = "reply.example.com"


@pytest.fixture(autouse=True)
def replies_on(settings):
    settings.SRM_REPLY_DOMAIN = DOMAIN
    settings.SRM_BASE_URL = "https://srm.example.com"
    return settings


def active(request) -> Step:
    return request.steps.select_related("request").get(state=StepState.ACTIVE)


def reply(step, *, to_head=None, sender, said="approve", shape="gmail", **kw):
    head = to_head or step.accountable_head
    message = mail_samples.SHAPES[shape](said, sender=sender, to=reply_address(step, head), **kw)
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def process(message):
    outcome = inbound_reply_process(message)
    inbound_answers_send()
    return outcome


def answers_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def delegate(*, frm, to):
    today = timezone.localdate()
    return Delegation.objects.create(delegator=frm, delegate=to, starts_on=today,
                                     ends_on=today + timedelta(days=7))


def test_the_head_approves_by_replying(org, submit):
    request = submit(cost="6000")
    step = active(request)
    message = reply(step, sender="Hank Hughes <hank@example.com>", said="Approved\nGo ahead.")

    outcome = process(message)

    assert (outcome.outcome, outcome.reason) == (InboundOutcome.DECIDED, "decided")
    step.refresh_from_db()
    assert (step.state, step.decided_by, step.comment) == (StepState.APPROVED, org.hank,
                                                           "Go ahead.")
    assert active(request).name == "Finance approval"
    assert step.channel == "email_reply"
    approved = AuditEvent.objects.get(verb="step.approved")
    assert approved.data["channel"] == "email_reply"
    assert approved.data["message_id"] == message["Message-ID"]
    event = AuditEvent.objects.get(verb="inbound_mail.decided")
    assert event.correlation == request.reference and event.actor == org.hank
    assert event.data["channel"] == "email_reply"
    assert event.data["message_id"] == message["Message-ID"]
    (answer,) = answers_to("hank@example.com")
    assert f"You approved “Head approval” of {request.reference}" in answer.body
    assert f"https://srm.example.com{request.get_absolute_url()}" in answer.body
    assert answer.extra_headers["In-Reply-To"] == message["Message-ID"]
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    assert answer.subject.startswith("Re: ")


def test_a_rejection_carries_the_reason_and_a_question_holds_the_step(org, submit):
    first, second = submit(cost="1200"), submit(cost="1300")
    process(reply(active(first), sender="hank@example.com", shape="outlook",
                  said="Abgelehnt: kein Budget mehr", german=True))
    process(reply(active(second), sender="hank@example.com", shape="apple_mail",
                  said="? Which model exactly"))

    step = first.steps.get(name="Head approval")
    assert (step.state, step.comment) == (StepState.REJECTED, "kein Budget mehr")
    assert answers_to("hank@example.com")[0].subject == "AW: [SRM] x"  # not "Re: AW: …"
    held = active(second)
    assert held.on_hold_since is not None
    assert held.holds.get().question == "Which model exactly"


def test_the_active_delegate_decides_for_the_head(org, submit):
    delegate(frm=org.hank, to=org.bob)
    request = submit(cost="1200")
    step = active(request)
    outcome = process(reply(step, sender="Bob Brown <BOB@example.com>"))
    assert outcome.outcome == InboundOutcome.DECIDED
    step.refresh_from_db()
    assert (step.decided_by, step.acted_for) == (org.bob, org.hank)
    event = AuditEvent.objects.get(verb="inbound_mail.decided")
    assert (event.actor, event.on_behalf_of) == (org.bob, org.hank)


# --- The rule table: every refusal of the page holds for the reply ------------------------
def test_self_approval_is_refused(org, submit):
    """Alice holds Hank's delegation and replies to his e-mail about her own request."""
    delegate(frm=org.hank, to=org.alice)
    request = submit(cost="1200")
    outcome = process(reply(active(request), sender="alice@example.com"))
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "own_request")
    assert active(request).name == "Head approval"
    (answer,) = answers_to("alice@example.com")
    assert "Your e-mail decided nothing." in answer.body
    assert "You cannot decide on your own request." in answer.body


def test_the_second_level_by_the_same_person_is_refused(org, submit):
    delegate(frm=org.fiona, to=org.hank)
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active(request))
    finance = active(request)
    outcome = process(reply(finance, sender="hank@example.com"))
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "separation_of_duties")
    assert active(request).pk == finance.pk
    assert "You already approved “Head approval”" in answers_to("hank@example.com")[0].body


def test_a_stale_token_decides_nothing(org, submit, client):
    """The step was decided on the page meanwhile; and a step activated again (a new
    version) does not take an e-mail written about its earlier round."""
    request = submit(cost="1200")
    step = active(request)
    message = reply(step, sender="hank@example.com")
    step_approve(actor=org.hank, step=step)
    outcome = process(message)
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "already_decided")

    other = submit(cost="1300")
    step = active(other)
    message = reply(step, sender="hank@example.com")
    Step.objects.filter(pk=step.pk).update(activated_at=step.activated_at + timedelta(hours=1))
    outcome = process(message)
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "stale")
    assert active(other).state == StepState.ACTIVE
    assert "an earlier round" in answers_to("hank@example.com")[-1].body


def test_a_reply_from_the_wrong_sender_is_refused_and_answered(org, submit):
    request = submit(cost="1200")
    outcome = process(reply(active(request), sender="Bob Brown <bob@example.com>"))
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "wrong_sender")
    assert active(request).name == "Head approval"
    (answer,) = answers_to("bob@example.com")
    assert "Only the person this e-mail was sent to" in answer.body
    assert request.reference not in answer.body  # a stranger learns nothing of the request
    # Nor from an address SRM does not know.
    outcome = process(reply(active(request), sender="hank@evil.example.net"))
    assert outcome.reason == "wrong_sender"


def test_after_a_head_change_the_old_head_s_reply_is_refused(org, submit):
    request = submit(cost="1200")
    step = active(request)
    message = reply(step, sender="hank@example.com")
    department_set_head(actor=None, department=org.dept["MKT"], head=org.bob)
    outcome = process(message)
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "not_decider")
    assert active(request).accountable_head == org.bob


def test_after_the_delegation_ended_the_delegate_s_reply_is_refused(org, submit):
    delegation = delegate(frm=org.hank, to=org.bob)
    request = submit(cost="1200")
    message = reply(active(request), sender="bob@example.com")
    delegation_end(actor=org.hank, delegation=delegation)
    outcome = process(message)
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "wrong_sender")
    assert active(request).name == "Head approval"


def test_a_replayed_message_id_decides_nothing_twice(org, submit):
    first, second = submit(cost="1200"), submit(cost="1300")
    message = reply(active(first), sender="hank@example.com")
    assert process(message).outcome == InboundOutcome.DECIDED
    # The same Message-ID again, even rewritten to point at another step.
    del message["To"]
    message["To"] = reply_address(active(second), org.hank)
    assert process(message).outcome == DUPLICATE
    assert active(second).name == "Head approval"
    assert InboundMessage.objects.count() == 1
    assert len(answers_to("hank@example.com")) == 1
    assert AuditEvent.objects.filter(verb__startswith="inbound_mail.").count() == 1


def test_an_automatic_reply_decides_nothing_and_is_not_answered(org, submit):
    request = submit(cost="1200")
    step = active(request)
    message = mail_samples.out_of_office(sender="hank@example.com",
                                         to=reply_address(step, org.hank))
    outcome = process(message)
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.IGNORED, "auto_reply")
    assert active(request).state == StepState.ACTIVE
    assert answers_to("hank@example.com") == []
    record = InboundMessage.objects.get()
    assert record.answer_status == AnswerStatus.NONE
    assert AuditEvent.objects.filter(verb="inbound_mail.ignored").exists()


def test_a_reply_that_says_nothing_clear_is_answered_with_how_to(org, submit):
    request = submit(cost="1200")
    outcome = process(reply(active(request), sender="hank@example.com",
                            said="No problem, approved"))
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "unreadable")
    assert "“approve”, “reject” and the reason" in answers_to("hank@example.com")[0].body
    outcome = process(reply(active(request), sender="hank@example.com", said="reject"))
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "comment_required")
    assert active(request).name == "Head approval"


def test_a_failing_dmarc_result_of_the_trusted_server_refuses(org, submit, settings):
    settings.SRM_TRUSTED_AUTHSERV_ID = "mx.reply.example.com"
    request = submit(cost="1200")
    failing = reply(active(request), sender="hank@example.com", headers={
        "Authentication-Results": "mx.reply.example.com; spf=pass; dkim=none; dmarc=fail"})
    outcome = process(failing)
    assert (outcome.outcome, outcome.reason) == (InboundOutcome.REFUSED, "not_authenticated")
    assert active(request).name == "Head approval"
    passing = reply(active(request), sender="hank@example.com", headers={
        "Authentication-Results": "mx.reply.example.com; dkim=pass; dmarc=pass"})
    assert process(passing).outcome == InboundOutcome.DECIDED


def test_an_altered_token_is_refused_and_mail_without_one_is_ignored(org, submit):
    request = submit(cost="1200")
    address = reply_address(active(request), org.hank)
    forged = mail_samples.gmail("approve", sender="hank@example.com",
                                to=address[:-len(DOMAIN) - 3] + "aa@" + DOMAIN)
    assert process(forged).reason == "invalid_token"
    spam = mail_samples.gmail("approve", sender="someone@spam.example.net",
                              to=f"approvals@{DOMAIN}")
    assert process(spam).outcome == InboundOutcome.IGNORED
    assert answers_to("someone@spam.example.net") == []
    assert active(request).name == "Head approval"


@pytest.mark.django_db(transaction=True)
def test_the_same_message_read_by_several_workers_at_once_decides_once(org, submit):
    """Two pollers (or a poller and a provider's retry) with the same mail at the same
    moment: the Message-ID's unique key lets one through; the others find it taken."""
    request = submit(cost="1200")
    raw = reply(active(request), sender="hank@example.com").as_bytes()
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def read() -> None:
        try:
            message = message_from_bytes(raw, policy=policy.default)
            barrier.wait(timeout=10)
            result = inbound_reply_process(message).outcome
        except Exception as exc:  # anything else is a failure the test reports
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(str(result))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [InboundOutcome.DECIDED] + [DUPLICATE] * 5
    assert InboundMessage.objects.count() == 1
    assert AuditEvent.objects.filter(verb="step.approved").count() == 1


def test_ops_find_every_inbound_message_in_the_admin(org, submit, client):
    request = submit(cost="1200")
    process(reply(active(request), sender="Bob Brown <bob@example.com>"))
    record = InboundMessage.objects.get()
    client.force_login(User.objects.get(username="admin"))

    listing = client.get("/admin/accountability/inboundmessage/?outcome=refused")
    detail = client.get(f"/admin/accountability/inboundmessage/{record.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert "bob@example.com" in listing.content.decode()
    assert "wrong_sender" in listing.content.decode()
    assert "Only the person this e-mail was sent to" in detail.content.decode()
