"""Replies as the common mail programs write them, for the parser and the IMAP tests.

Each builder returns an ``email.message.EmailMessage`` answering the SRM e-mail ``to`` (the
reply address) with ``said`` as the person's own text above the quoted mail.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

QUOTED = ("SR-2026-000042 waits for your decision: New laptop for the campaign team\n"
          "Alice Adams (Marketing) asks for New laptop.\n"
          "Estimated cost: EUR 6,000.00.")


def _message(*, sender: str, to: str, subject: str, message_id: str | None = None,
             headers: dict | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Tue, 01 Dec 2026 10:15:00 +0100"
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    message["In-Reply-To"] = "<notification-1@srm.example.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    return message


def outlook(said: str, *, sender: str, to: str, german: bool = False, **kw) -> EmailMessage:
    """Outlook (plain text): no ``>``; the answered mail under a line, then a From/Sent block."""
    head = ("Von: SRM <srm@example.com>\nGesendet: Dienstag, 1. Dezember 2026 09:00\n"
            "An: Fiona Fischer <fiona@example.com>\nBetreff: [SRM] SR-2026-000042\n"
            if german else
            "From: SRM <srm@example.com>\nSent: Tuesday, December 1, 2026 9:00 AM\n"
            "To: Fiona Fischer <fiona@example.com>\nSubject: [SRM] SR-2026-000042\n")
    message = _message(sender=sender, to=to, subject=("AW: " if german else "RE: ") + "[SRM] x",
                       **kw)
    message.set_content(f"{said}\n\nFiona Fischer\nHead of Finance\n\n"
                        f"________________________________\n{head}\n{QUOTED}\n")
    return message


def outlook_classic(said: str, *, sender: str, to: str, **kw) -> EmailMessage:
    message = _message(sender=sender, to=to, subject="RE: [SRM] x", **kw)
    message.set_content(f"{said}\n\n-----Original Message-----\nFrom: SRM "
                        f"<srm@example.com>\nSent: Tuesday, December 1, 2026 9:00 AM\n\n{QUOTED}\n")
    return message


def outlook_html(said: str, *, sender: str, to: str, **kw) -> EmailMessage:
    """Outlook on the web: HTML only, the answered mail under ``<hr>`` in divRplyFwdMsg."""
    message = _message(sender=sender, to=to, subject="RE: [SRM] x", **kw)
    said_html = "".join(f"<div>{line or '<br>'}</div>" for line in said.split("\n"))
    message.set_content(
        "<html><head><style>p {margin:0}</style></head><body>"
        f"<div style=\"font-family: Calibri\">{said_html}</div>"
        "<div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\">"
        "<div id=\"divRplyFwdMsg\"><font face=\"Calibri\"><b>From:</b> SRM &lt;srm@example.com&gt;"
        "<br><b>Sent:</b> Tuesday, December 1, 2026 9:00 AM<br><b>Subject:</b> [SRM] x</font>"
        f"</div><div>{QUOTED.replace(chr(10), '<br>')}</div></body></html>",
        subtype="html",
    )
    return message


def gmail(said: str, *, sender: str, to: str, german: bool = False, **kw) -> EmailMessage:
    """Gmail: plain and HTML; an attribution line (wrapped) and ``>`` quotes; a signature."""
    attribution = ("Am Di., 1. Dez. 2026 um 09:00 Uhr schrieb SRM <srm@example.com>:"
                   if german else
                   "On Tue, 1 Dec 2026 at 09:00, SRM <srm@example.com>\nwrote:")
    quoted = "\n".join(f"> {line}" for line in QUOTED.split("\n"))
    message = _message(sender=sender, to=to, subject="Re: [SRM] x", **kw)
    message.set_content(f"{said}\n\n-- \nFiona Fischer\n\n{attribution}\n\n{quoted}\n")
    said_html = "<br>".join(said.split("\n"))
    message.add_alternative(
        f"<div dir=\"ltr\">{said_html}<br clear=\"all\"><div><br></div>-- <br>"
        "<div class=\"gmail_signature\">Fiona Fischer</div></div><br>"
        f"<div class=\"gmail_quote\"><div class=\"gmail_attr\">{attribution}<br></div>"
        f"<blockquote class=\"gmail_quote\">{QUOTED.replace(chr(10), '<br>')}</blockquote></div>",
        subtype="html",
    )
    return message


def gmail_html_only(said: str, *, sender: str, to: str, **kw) -> EmailMessage:
    message = _message(sender=sender, to=to, subject="Re: [SRM] x", **kw)
    said_html = "<br>".join(said.split("\n"))
    message.set_content(
        f"<div dir=\"ltr\">{said_html}</div><br><div class=\"gmail_quote\"><div "
        "class=\"gmail_attr\">On Tue, 1 Dec 2026 at 09:00, SRM &lt;srm@example.com&gt; wrote:"
        f"<br></div><blockquote class=\"gmail_quote\">{QUOTED.replace(chr(10), '<br>')}"
        "</blockquote></div>",
        subtype="html",
    )
    return message


def apple_mail(said: str, *, sender: str, to: str, german: bool = False, **kw) -> EmailMessage:
    """Apple Mail: plain text with an attribution and ``>`` quotes, and "Sent from my iPhone"."""
    attribution = ("Am 01.12.2026 um 09:00 schrieb SRM <srm@example.com>:" if german else
                   "On 1 Dec 2026, at 09:00, SRM <srm@example.com> wrote:")
    footer = "Von meinem iPhone gesendet" if german else "Sent from my iPhone"
    quoted = "\n".join(f"> {line}" for line in QUOTED.split("\n"))
    message = _message(sender=sender, to=to, subject="Re: [SRM] x", **kw)
    message.set_content(f"{said}\n\n{footer}\n\n{attribution}\n\n{quoted}\n")
    return message


def apple_mail_html(said: str, *, sender: str, to: str, **kw) -> EmailMessage:
    message = _message(sender=sender, to=to, subject="Re: [SRM] x", **kw)
    said_html = "".join(f"<div>{line}</div>" for line in said.split("\n"))
    message.set_content(
        "<html><body style=\"overflow-wrap: break-word;\">"
        f"{said_html}<div><br><blockquote type=\"cite\"><div>On 1 Dec 2026, at 09:00, SRM "
        "&lt;srm@example.com&gt; wrote:</div><br><div><div>"
        f"{QUOTED.replace(chr(10), '<br>')}</div></div></blockquote></div></body></html>",
        subtype="html",
    )
    return message


SHAPES = {
    "outlook": outlook, "outlook_classic": outlook_classic, "outlook_html": outlook_html,
    "gmail": gmail, "gmail_html_only": gmail_html_only, "apple_mail": apple_mail,
    "apple_mail_html": apple_mail_html,
}


def out_of_office(*, sender: str, to: str, german: bool = False, **kw) -> EmailMessage:
    """Exchange's automatic reply: Auto-Submitted and an "Automatic reply" subject."""
    message = _message(sender=sender, to=to, subject=(
        "Automatische Antwort: [SRM] x" if german else "Automatic reply: [SRM] x"),
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}, **kw)
    message.set_content("I am out of the office until Monday. Yes, I will answer then.")
    return message
