"""Replies a provider POSTs: Mailgun's inbound route ("forward" action, fully parsed fields,
as its documentation shows them), signed with the account's webhook signing key and checked by
django-anymail, decided through the same service as the IMAP mailbox."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.core import mail

from accountability.mailin.address import reply_address
from accountability.models import InboundDoor, InboundMessage, InboundOutcome
from accountability.services.replies import inbound_answers_send
from approvals.choices import StepState

pytestmark = pytest.mark.postgres

URL = "/mail/inbound/mailgun/"
SIGNING_KEY = "key-7e55d003b2f5e4c7a49ef8aa7d2b9f3a"


@pytest.fixture
def webhook_on(settings):
    settings.SRM_REPLY_DOMAIN = "reply.example.com"
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    return settings


def mailgun_post(*, to, sender="Hank Hughes <hank@example.com>", said="Approved",
                 message_id="<CAHx4-1Tq=AbC@mail.gmail.com>", key=SIGNING_KEY,
                 timestamp="1764583200",
                 token="a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"):
    """The fields of Mailgun's forward() to a URL, as in its inbound routing documentation."""
    quoted = ("On Tue, 1 Dec 2026 at 09:00, SRM <srm@example.com> wrote:\n"
              "> SR-2026-000042 waits for your decision")
    headers = [
        ["Received", "by mxa.mailgun.org with SMTP; Tue, 01 Dec 2026 10:00:00 +0000"],
        ["Mime-Version", "1.0"],
        ["Message-Id", message_id],
        ["From", sender],
        ["To", to],
        ["Subject", "Re: [SRM] SR-2026-000042 waits for your decision"],
        ["Date", "Tue, 1 Dec 2026 11:00:00 +0100"],
        ["Content-Type", "multipart/alternative; boundary=\"0000000000009d7c2a05f1\""],
    ]
    return {
        "recipient": to,
        "sender": sender.split("<")[-1].rstrip(">"),
        "from": sender,
        "subject": "Re: [SRM] SR-2026-000042 waits for your decision",
        "body-plain": f"{said}\n\n{quoted}\n",
        "stripped-text": said,
        "stripped-signature": "",
        "body-html": f"<div dir=\"ltr\">{said}</div><br><div class=\"gmail_quote\">"
                     f"<blockquote class=\"gmail_quote\">SR-2026-000042</blockquote></div>",
        "stripped-html": f"<div dir=\"ltr\">{said}</div>",
        "attachment-count": "0",
        "timestamp": timestamp,
        "token": token,
        "signature": hmac.new(key.encode(), f"{timestamp}{token}".encode(),
                              hashlib.sha256).hexdigest(),
        "message-headers": json.dumps(headers),
        "content-id-map": "{}",
    }


def test_a_signed_reply_decides_the_step(org, submit, client, webhook_on):
    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)

    response = client.post(URL, mailgun_post(to=reply_address(step, org.hank)))

    assert response.status_code == 200
    step.refresh_from_db()
    assert (step.state, step.decided_by, step.channel) == (StepState.APPROVED, org.hank,
                                                           "email_reply")
    record = InboundMessage.objects.get()
    assert (record.door, record.outcome, record.message_id) == (
        InboundDoor.WEBHOOK, InboundOutcome.DECIDED, "<CAHx4-1Tq=AbC@mail.gmail.com>")
    inbound_answers_send()
    assert "You approved" in [m for m in mail.outbox if m.to == ["hank@example.com"]][0].body


def test_mailgun_retrying_the_same_post_decides_nothing_twice(org, submit, client, webhook_on):
    first, second = submit(cost="1200"), submit(cost="1300")
    payload = mailgun_post(to=reply_address(first.steps.get(state=StepState.ACTIVE), org.hank))
    assert client.post(URL, payload).status_code == 200
    assert client.post(URL, payload).status_code == 200
    replay = mailgun_post(to=reply_address(second.steps.get(state=StepState.ACTIVE), org.hank),
                          token="b" * 50)  # signed again, same Message-ID, another step
    assert client.post(URL, replay).status_code == 200
    assert InboundMessage.objects.count() == 1
    assert second.steps.get(state=StepState.ACTIVE).name == "Head approval"


@pytest.mark.parametrize("tamper", ["wrong key", "altered token", "no signature"])
def test_an_unsigned_or_badly_signed_post_is_refused_and_changes_nothing(
        org, submit, client, webhook_on, tamper):
    request = submit(cost="1200")
    step = request.steps.get(state=StepState.ACTIVE)
    payload = mailgun_post(to=reply_address(step, org.hank),
                           key="key-another-account" if tamper == "wrong key" else SIGNING_KEY)
    if tamper == "altered token":
        payload["token"] = "c" * 50
    elif tamper == "no signature":
        del payload["signature"]
    response = client.post(URL, payload)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    assert request.steps.get(state=StepState.ACTIVE).pk == step.pk


def test_without_a_signing_key_there_is_no_webhook(org, client, settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    assert client.post(URL, {"timestamp": "1", "token": "x", "signature": "y"}).status_code == 404
