"""Replies in a real IMAP mailbox (Debian's dovecot, started for these tests on a loopback
port): written the way Outlook, Gmail and Apple Mail write them, to the Reply-To of the real
"waiting for your decision" e-mail, read by the beat job, filed as processed or failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.core import mail
from imap_tools import MailBoxUnencrypted

from accountability.models import InboundMessage, InboundOutcome
from accountability.services.notifications import notifications_deliver
from accountability.tasks import poll_reply_mailbox
from approvals.choices import StepState
from approvals.models import Step
from tests.accountability import mail_samples
from tests.mailservers import dovecot

pytestmark = pytest.mark.postgres

PROCESSED, FAILED = "SRM/processed", "SRM/failed"


@pytest.fixture(scope="module")
def imap_server():
    with dovecot() as server:
        yield server


@pytest.fixture
def mailbox(imap_server, settings):
    settings.SRM_REPLY_DOMAIN = "reply.example.com"
    settings.SRM_IMAP_HOST = imap_server.host
    settings.SRM_IMAP_PORT = imap_server.port
    settings.SRM_IMAP_TLS = "none"
    settings.SRM_IMAP_USER = imap_server.user
    settings.SRM_IMAP_PASSWORD = imap_server.password
    settings.SRM_IMAP_TIMEOUT = 10
    with MailBoxUnencrypted(imap_server.host, imap_server.port, timeout=10).login(
            imap_server.user, imap_server.password) as box:
        for folder in ("INBOX", PROCESSED, FAILED):
            if box.folder.exists(folder):
                box.folder.set(folder)
                if uids := box.uids():
                    box.delete(uids)
        box.folder.set("INBOX")
        yield box


def in_folder(box, folder) -> list[str]:
    box.folder.set(folder)
    subjects = [m.headers.get("message-id", ("",))[0] for m in box.fetch(mark_seen=False)]
    box.folder.set("INBOX")
    return subjects


def reply_to_of_waiting_mail(person: str, request) -> str:
    """The Reply-To of the "waiting for your decision" e-mail ``person`` received about
    ``request``."""
    notifications_deliver()
    (message,) = [m for m in mail.outbox if m.to[0].endswith(f"<{person}@example.com>")
                  and f"{request.reference} waits for" in m.subject]
    (reply_to,) = message.reply_to
    return reply_to


def deliver(box, message) -> str:
    box.append(message.as_bytes(), "INBOX")
    return message["Message-ID"]


def active(request) -> Step:
    return request.steps.get(state=StepState.ACTIVE)


def answers_to(address):
    return [m for m in mail.outbox if m.to == [address]]


@pytest.mark.parametrize("shape", sorted(mail_samples.SHAPES))
def test_each_mail_program_s_approval_decides_the_step(org, submit, mailbox, shape):
    request = submit(cost="1200")
    message_id = deliver(mailbox, mail_samples.SHAPES[shape](
        "Approved", sender="Hank Hughes <hank@example.com>",
        to=reply_to_of_waiting_mail("hank", request)))

    result = poll_reply_mailbox()

    assert result["outcomes"] == {InboundOutcome.DECIDED: 1}
    head = request.steps.get(name="Head approval")
    assert (head.state, head.decided_by, head.channel) == (StepState.APPROVED, org.hank,
                                                           "email_reply")
    assert in_folder(mailbox, "INBOX") == []
    assert in_folder(mailbox, PROCESSED) == [message_id]
    assert "You approved “Head approval”" in answers_to("hank@example.com")[0].body


def test_hank_approves_then_fiona_replies_genehmigt_and_rejections_and_questions_read(
        org, submit, mailbox):
    """The two levels of one request, in German from Outlook; a rejection from Gmail; a
    question from Apple Mail."""
    big, other, third = submit(cost="6000"), submit(cost="1300"), submit(cost="1400")
    by_request = {r.reference: reply_to_of_waiting_mail("hank", r) for r in (big, other, third)}
    deliver(mailbox, mail_samples.outlook("Genehmigt", sender="hank@example.com",
                                          to=by_request[big.reference], german=True))
    deliver(mailbox, mail_samples.gmail("reject no budget left this quarter",
                                        sender="hank@example.com", to=by_request[other.reference]))
    deliver(mailbox, mail_samples.apple_mail_html("? Which model do you need",
                                                  sender="hank@example.com",
                                                  to=by_request[third.reference]))
    assert poll_reply_mailbox()["outcomes"] == {InboundOutcome.DECIDED: 3}

    assert active(big).name == "Finance approval"
    assert other.steps.get(name="Head approval").comment == "no budget left this quarter"
    assert active(third).on_hold_since is not None

    deliver(mailbox, mail_samples.outlook_html(
        "genehmigt", sender="Fiona Fischer <fiona@example.com>",
        to=reply_to_of_waiting_mail("fiona", big)))
    assert poll_reply_mailbox()["outcomes"] == {InboundOutcome.DECIDED: 1}
    finance = big.steps.get(name="Finance approval")
    assert (finance.state, finance.decided_by) == (StepState.APPROVED, org.fiona)
    assert active(big).kind == "execution"
    assert len(in_folder(mailbox, PROCESSED)) == 4


def test_a_replayed_message_id_decides_nothing_twice(org, submit, mailbox):
    first, second = submit(cost="1200"), submit(cost="1300")
    message = mail_samples.gmail("approve", sender="hank@example.com",
                                 to=reply_to_of_waiting_mail("hank", first))
    deliver(mailbox, message)
    deliver(mailbox, message)  # the same mail twice (a client that sent it again, a forward)
    result = poll_reply_mailbox()
    assert result["outcomes"] == {InboundOutcome.DECIDED: 1, "duplicate": 1}
    assert [r.step_id for r in InboundMessage.objects.all()] == [
        first.steps.get(name="Head approval").pk]
    assert active(second).name == "Head approval"
    assert len(answers_to("hank@example.com")) == 1
    assert len(in_folder(mailbox, PROCESSED)) == 2
    # Polled again: nothing left, nothing decided again.
    assert poll_reply_mailbox()["seen"] == 0


def test_an_auto_reply_decides_nothing_and_gets_no_answer(org, submit, mailbox):
    request = submit(cost="1200")
    deliver(mailbox, mail_samples.out_of_office(
        sender="hank@example.com", to=reply_to_of_waiting_mail("hank", request), german=True))
    assert poll_reply_mailbox()["outcomes"] == {InboundOutcome.IGNORED: 1}
    assert active(request).name == "Head approval"
    assert answers_to("hank@example.com") == []
    assert InboundMessage.objects.get().reason == "auto_reply"


def test_a_reply_from_the_wrong_sender_is_refused_and_answered(org, submit, mailbox):
    request = submit(cost="1200")
    deliver(mailbox, mail_samples.gmail("approve", sender="Bob Brown <bob@example.com>",
                                        to=reply_to_of_waiting_mail("hank", request)))
    assert poll_reply_mailbox()["outcomes"] == {InboundOutcome.REFUSED: 1}
    assert active(request).name == "Head approval"
    (answer,) = answers_to("bob@example.com")
    assert "Your e-mail decided nothing." in answer.body


def test_a_message_that_cannot_be_read_goes_to_the_failed_folder(org, submit, mailbox,
                                                                 monkeypatch):
    from accountability.mailin import imap

    def broken(message, **kwargs):
        raise ValueError("unreadable MIME")

    request = submit(cost="1200")
    message_id = deliver(mailbox, mail_samples.gmail(
        "approve", sender="hank@example.com", to=reply_to_of_waiting_mail("hank", request)))
    monkeypatch.setattr(imap, "inbound_reply_process", broken)
    result = poll_reply_mailbox()
    assert (result["seen"], result["failed"]) == (1, 1)
    assert in_folder(mailbox, FAILED) == [message_id]
    assert in_folder(mailbox, "INBOX") == []



@pytest.mark.parametrize(("environment", "jobs"), [
    ({}, set()),
    ({"SRM_REPLY_DOMAIN": "reply.example.com"}, {"answer-inbound-mail"}),
    ({"SRM_REPLY_DOMAIN": "reply.example.com", "SRM_IMAP_HOST": "imap.example.com"},
     {"answer-inbound-mail", "poll-reply-mailbox"}),
])
def test_the_mail_jobs_are_scheduled_only_when_configured(environment, jobs):
    """A fresh process reads the settings from its environment, as beat does at start-up;
    each job it schedules is a registered task of the one policy with an expiry."""
    script = textwrap.dedent("""
        import json, django
        django.setup()
        from django.conf import settings
        from srm.celery import app
        app.loader.import_default_modules()
        mail = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items()
                if k in ("answer-inbound-mail", "poll-reply-mailbox")}
        print(json.dumps({k: [v["task"] in app.tasks, v["options"]["expires"] > 0]
                          for k, v in mail.items()}))
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in {"SRM_REPLY_DOMAIN", "SRM_IMAP_HOST"}} | environment
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    scheduled = json.loads(out.strip().splitlines()[-1])
    assert set(scheduled) == jobs
    assert all(registered and expires for registered, expires in scheduled.values())
