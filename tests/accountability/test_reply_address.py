"""The reply address of a "waiting for your decision" e-mail: one per step and approver,
signed, worth nothing for another step, approver or activation of the step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from accountability.mailin.address import reply_address, reply_token_read, step_version
from accountability.services.notifications import notifications_deliver
from approvals.choices import StepState

pytestmark = pytest.mark.django_db

DOMAIN = "reply.example.com"


@pytest.fixture
def replies_on(settings):
    settings.SRM_REPLY_DOMAIN = DOMAIN
    return settings


def waiting_mail_to(address):
    notifications_deliver()
    (message,) = [m for m in mail.outbox if m.to[0].endswith(f"<{address}>")
                  and "waits for your decision" in m.subject]
    return message


def test_the_waiting_mail_s_reply_to_names_the_step_and_its_approver(org, submit, replies_on):
    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)

    (reply_to,) = waiting_mail_to("hank@example.com").reply_to

    local, domain = reply_to.split("@")
    assert domain == DOMAIN and local.startswith("approvals+") and len(local) <= 64
    assert reply_to == reply_to.lower()
    token = reply_token_read(reply_to)
    assert (token.step_id, token.approver_id, token.version) == (
        step.pk, org.hank.pk, step_version(step))
    # Other mails to the requester have none.
    assert all(not m.reply_to for m in mail.outbox if m.to[0].endswith("<alice@example.com>"))


def test_without_a_reply_domain_there_is_no_reply_to(org, submit, settings):
    settings.SRM_REPLY_DOMAIN = ""
    submit(cost="1200")
    assert waiting_mail_to("hank@example.com").reply_to == []


def test_a_token_altered_or_made_with_another_key_reads_as_none(org, submit, replies_on):
    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)
    address = reply_address(step, org.hank)
    assert reply_token_read(address.upper()) is not None  # servers may change the case

    other_step = address.replace(f"+{step.pk}-", f"+{step.pk + 1}-")
    other_approver = address.replace(f"-{org.hank.pk}-", f"-{org.fiona.pk}-", 1)
    assert reply_token_read(other_step) is None
    assert reply_token_read(other_approver) is None
    assert reply_token_read(address.replace(DOMAIN, "elsewhere.example.com")) is None
    assert reply_token_read(address.replace("approvals+", "finance+")) is None
    assert reply_token_read("approvals@" + DOMAIN) is None

    replies_on.SECRET_KEY = "another key " * 5
    assert reply_token_read(address) is None


def test_an_old_key_still_reads_while_it_is_a_fallback(org, submit, replies_on):
    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)
    address = reply_address(step, org.hank)
    old = replies_on.SECRET_KEY
    replies_on.SECRET_KEY = "a new key that replaced the old one " * 2
    assert reply_token_read(address) is None
    replies_on.SECRET_KEY_FALLBACKS = [old]
    assert reply_token_read(address) is not None


def test_a_step_activated_again_has_a_new_version(org, submit, replies_on):
    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)
    before = step_version(step)
    step.activated_at += timedelta(microseconds=1)
    assert step_version(step) != before


def test_the_new_head_told_of_one_approval_gets_its_reply_address(org, submit, replies_on):
    """A head change moves one waiting approval: the new head's notice can be answered too;
    the old head's address no longer names the decider (the services refuse it)."""
    from governance.services.org import department_set_head

    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)
    department_set_head(actor=None, department=org.dept["MKT"], head=org.bob)
    notifications_deliver()

    (notice,) = [m for m in mail.outbox if m.to[0].endswith("<bob@example.com>")]
    assert "now wait for your decision" in notice.subject
    (reply_to,) = notice.reply_to
    token = reply_token_read(reply_to)
    assert (token.step_id, token.approver_id) == (step.pk, org.bob.pk)
