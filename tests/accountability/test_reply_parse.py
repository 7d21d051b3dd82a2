"""Reading a reply to an approval e-mail: the decision on its first line, whatever mail
program wrote it (quotes, signatures, HTML only, German), and what is not a person's reply."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from accountability.mailin.parse import (
    APPROVE,
    QUESTION,
    REJECT,
    Command,
    authentication_failed,
    auto_reply_why,
    command_read,
    html_to_text,
    reply_text,
)
from tests.accountability import mail_samples

TO = "approvals+1-2-abc-aaaaaaaaaaaaaaaaaaaa@reply.example.com"
SENDER = "Fiona Fischer <fiona@example.com>"


@pytest.mark.parametrize(("line", "expected"), [
    ("approve", Command(APPROVE)),
    ("Approved", Command(APPROVE)),
    ("APPROVED.", Command(APPROVE)),
    ("ok", Command(APPROVE)),
    ("OK!", Command(APPROVE)),
    ("Okay, go ahead", Command(APPROVE, "go ahead")),
    ("yes", Command(APPROVE)),
    ("Yes - within budget", Command(APPROVE, "within budget")),
    ("approve, no objections", Command(APPROVE, "no objections")),
    ("genehmigt", Command(APPROVE)),
    ("Genehmigt.", Command(APPROVE)),
    ("ja", Command(APPROVE)),
    ("Ja, passt.", Command(APPROVE, "passt.")),
    ("reject no budget left this quarter", Command(REJECT, "no budget left this quarter")),
    ("Reject: no budget left", Command(REJECT, "no budget left")),
    ("REJECTED - wrong cost centre", Command(REJECT, "wrong cost centre")),
    ("no, too expensive", Command(REJECT, "too expensive")),
    ("No — use the pool laptop", Command(REJECT, "use the pool laptop")),
    ("abgelehnt kein Budget mehr", Command(REJECT, "kein Budget mehr")),
    ("Abgelehnt: Kostenstelle falsch", Command(REJECT, "Kostenstelle falsch")),
    ("nein, zu teuer", Command(REJECT, "zu teuer")),
    ("reject", Command(REJECT)),
    ("? Which supplier is it from?", Command(QUESTION, "Which supplier is it from?")),
    ("?Why 15-inch?", Command(QUESTION, "Why 15-inch?")),
    ("question: is this in the budget?", Command(QUESTION, "is this in the budget?")),
    ("Frage: Warum jetzt?", Command(QUESTION, "Warum jetzt?")),
    # A line that says both, or nothing SRM knows, decides nothing.
    ("no problem, approved", Command("")),
    ("Yes, rejected", Command("")),
    ("nein, genehmigt", Command("")),
    ("ok, no", Command("")),
    ("Thanks, will look at it tomorrow", Command("")),
    ("approvedish", Command("")),
    ("", Command("")),
    ("1200 EUR is fine", Command("")),
])
def test_the_first_line_decides(line, expected):
    assert command_read(line) == expected


def test_a_reason_on_the_next_lines_ends_at_the_first_blank_line():
    """What follows a blank line is a greeting or a signature, never the reason."""
    assert command_read("Abgelehnt\nKein Budget mehr in Q4.\n\nGrüße\nFiona") == Command(
        REJECT, "Kein Budget mehr in Q4.")
    assert command_read("reject\n\nFiona Fischer") == Command(REJECT)
    assert command_read("reject wrong item\n\nFiona Fischer\nHead of Finance") == Command(
        REJECT, "wrong item")


@pytest.mark.parametrize("shape", sorted(mail_samples.SHAPES))
@pytest.mark.parametrize(("said", "expected"), [
    ("Approved", Command(APPROVE)),
    ("reject no budget left this quarter", Command(REJECT, "no budget left this quarter")),
    ("? Which supplier is it from?", Command(QUESTION, "Which supplier is it from?")),
])
def test_every_mail_programs_reply_reads_the_same(shape, said, expected):
    message = _through_the_wire(mail_samples.SHAPES[shape](said, sender=SENDER, to=TO))
    assert command_read(reply_text(message)) == expected


@pytest.mark.parametrize("shape", ["outlook", "gmail", "apple_mail"])
def test_german_replies(shape):
    message = _through_the_wire(
        mail_samples.SHAPES[shape]("abgelehnt kein Budget mehr", sender=SENDER, to=TO,
                                   german=True))
    assert command_read(reply_text(message)) == Command(REJECT, "kein Budget mehr")
    message = _through_the_wire(
        mail_samples.SHAPES[shape]("Genehmigt", sender=SENDER, to=TO, german=True))
    assert command_read(reply_text(message)) == Command(APPROVE)


def test_the_quoted_mail_and_signature_are_not_the_reply():
    message = _through_the_wire(mail_samples.gmail("Approved", sender=SENDER, to=TO))
    assert reply_text(message) == "Approved"
    message = _through_the_wire(mail_samples.outlook("ok", sender=SENDER, to=TO))
    assert "waits for your decision" not in reply_text(message)


def test_a_reply_written_below_the_quote_is_read():
    text = ("On Tue, 1 Dec 2026 at 09:00, SRM <srm@example.com> wrote:\n"
            "> SR-2026-000042 waits for your decision\n> Estimated cost: EUR 6,000.00.\n\n"
            "approve\n")
    assert command_read(_plain(text)) == Command(APPROVE)


def test_quoted_words_never_decide():
    """Only the quote says "approve": the reply itself is empty and decides nothing."""
    text = "\n\nOn Tue, 1 Dec 2026, SRM wrote:\n> approve\n> Reply approve or reject.\n"
    assert command_read(_plain(text)) == Command("")


def test_html_as_text():
    html = ("<html><head><style>.x{color:red}</style><title>t</title></head><body>"
            "<p>Approved&nbsp;&amp; thanks</p><blockquote><p>quoted</p>"
            "<blockquote>deeper</blockquote></blockquote><pre>a\n b</pre></body></html>")
    assert html_to_text(html) == "Approved\u00a0& thanks\n\n> quoted\n\n> > deeper\n\na\n b"


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated; owner-email=x@example.com"},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
    {"Precedence": "auto_reply"},
    {"Precedence": "bulk"},
    {"Return-Path": "<>"},
    {"Subject": "Out of Office: [SRM] SR-2026-000042"},
    {"Subject": "Automatic reply: [SRM] SR-2026-000042"},
    {"Subject": "Abwesenheitsnotiz: [SRM] SR-2026-000042"},
    {"Subject": "Automatische Antwort: [SRM] SR-2026-000042"},
    {"Subject": "Abwesend: [SRM] SR-2026-000042"},
])
def test_automatic_mail_is_recognised(headers):
    message = EmailMessage()
    message["Subject"] = headers.pop("Subject", "Re: [SRM] SR-2026-000042")
    for name, value in headers.items():
        message[name] = value
    message.set_content("approve")
    assert auto_reply_why(message)


def test_a_person_s_reply_is_not_automatic():
    message = mail_samples.gmail("approve", sender=SENDER, to=TO,
                                 headers={"Auto-Submitted": "no"})
    assert auto_reply_why(message) == ""
    assert auto_reply_why(mail_samples.out_of_office(sender=SENDER, to=TO))


@pytest.mark.parametrize(("headers", "failed"), [
    (["mx.example.com; dkim=pass header.d=example.com; spf=pass; dmarc=pass"], ""),
    (["mx.example.com 1; dmarc=none (p=none) header.from=example.com"], ""),
    (["mx.example.com; dkim=pass; dmarc=fail (p=reject) header.from=example.com"], "dmarc=fail"),
    (["mx.example.com; dkim=fail (bad signature) header.d=example.com; dmarc=pass"], "dkim=fail"),
    (["mx.example.com; dkim=fail header.d=list.org; dkim=pass header.d=example.com"], ""),
    # A header of another server (or one the sender wrote) is not trusted, in either sense.
    (["evil.example.net; dkim=pass; dmarc=pass"], "no Authentication-Results of mx.example.com"),
    ([], "no Authentication-Results of mx.example.com"),
    # The receiving server's own header is the top one; a forged one below does not count.
    (["mx.example.com; dmarc=fail", "mx.example.com; dmarc=pass"], "dmarc=fail"),
])
def test_authentication_results_of_the_trusted_server(headers, failed):
    message = EmailMessage()
    for header in headers:
        message["Authentication-Results"] = header
    assert authentication_failed(message, "mx.example.com") == failed


def _through_the_wire(message: EmailMessage):
    """As a mailbox hands it back: bytes parsed again."""
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def _plain(text: str) -> str:
    message = EmailMessage()
    message.set_content(text)
    return reply_text(_through_the_wire(message))
