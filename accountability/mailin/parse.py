"""What a reply to an approval e-mail says. Pure functions of the message, no database.

- ``reply_text``: the text the person wrote, without the quoted mail below (or above) it,
  their signature or a mobile footer. Tolerant of what Outlook ("-----Original Message-----",
  the "From: … Sent: …" / "Von: … Gesendet: …" block under a line), Gmail and Apple Mail
  ("On … wrote:", "Am … schrieb …:", ``>`` quotes) write; an HTML-only mail is read as text
  first, its ``<blockquote>``s as ``>`` quotes.
- ``command_read``: the decision on the first non-empty line: ``approve`` / ``approved`` /
  ``ok`` / ``yes`` / ``genehmigt`` / ``ja``; ``reject <reason>`` / ``no <reason>`` /
  ``abgelehnt <Grund>`` / ``nein <Grund>``; a question ``? …`` / ``question …`` /
  ``frage …``. Case does not matter. A first line that says both (``no problem, approved``)
  decides nothing.
- ``auto_reply_why``: why a message is an automatic one (out of office, a bounce), or "".
- ``authentication_failed``: what the receiving server's ``Authentication-Results`` say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser

APPROVE = "approve"
REJECT = "reject"
QUESTION = "question"

# Words that decide, by language; "strong" ones say it outright, "weak" ones (yes, no, ok)
# are also everyday words, so a line that opens with one and names the opposite decision
# later ("no problem, approved") is ambiguous.
_STRONG = {
    "approve": APPROVE, "approved": APPROVE, "genehmigt": APPROVE, "genehmigen": APPROVE,
    "freigegeben": APPROVE,
    "reject": REJECT, "rejected": REJECT, "abgelehnt": REJECT, "ablehnen": REJECT,
    "question": QUESTION, "frage": QUESTION,
}
_WEAK = {"ok": APPROVE, "okay": APPROVE, "yes": APPROVE, "ja": APPROVE,
         "no": REJECT, "nein": REJECT}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_FIRST = re.compile(r"^\s*([^\W\d_]+)[\s.,;:!\-–—]*(.*)$", re.UNICODE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    action: str  # APPROVE, REJECT, QUESTION, or "" when the reply decides nothing
    text: str = ""  # the comment, the reason or the question


def command_read(text: str) -> Command:
    """The decision ``text`` (a reply without its quotes) asks for."""
    lines = text.strip().splitlines()
    if not lines:
        return Command("")
    first, rest = lines[0].strip(), _paragraph(lines[1:])
    if first.startswith("?"):
        return Command(QUESTION, _join(first[1:], rest))
    match = _FIRST.match(first)
    if match is None:
        return Command("")
    word, tail = match.group(1).lower(), match.group(2).strip()
    action = _STRONG.get(word) or _WEAK.get(word)
    if action is None:
        return Command("")
    if action != QUESTION:
        opposite = {APPROVE: REJECT, REJECT: APPROVE}[action]
        later = {w.lower() for w in _WORD.findall(tail)}
        named = {w for w in later if _STRONG.get(w) == opposite}
        if word in _WEAK:
            named |= {w for w in later if _WEAK.get(w) == opposite}
        if named:
            return Command("")
    return Command(action, _join(tail, rest))


def _paragraph(lines: list[str]) -> str:
    """The lines up to the first blank one: a signature or a greeting follows it."""
    kept = []
    for line in lines:
        if not line.strip():
            break
        kept.append(line.strip())
    return "\n".join(kept)


def _join(*parts: str) -> str:
    return "\n".join(p.strip() for p in parts if p.strip())


# --- The person's own text -----------------------------------------------------------------
# Everything from one of these lines on is the mail being answered (Outlook writes no ">").
_HISTORY = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine)\s*-{2,}"
    r"|_{8,}"
    r"|\*?(?:from|von|de)\s*:\*?\s+\S.*"
    r"|(?:sent from my|von meinem|get outlook for|outlook für)\b.*"
    r")\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")
# "On Mon, 1 Dec 2026 at 10:00, SRM <srm@…> wrote:" (Gmail may break it over two lines),
# "On 1 Dec 2026, at 10:00, SRM <…> wrote:" (Apple Mail), "Am 01.12.2026 um 10:00 schrieb
# SRM <…>:" (both, in German).
_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:on|am|le)\s[^\n]*(?:\n[^\n]*)?\s(?:wrote|schrieb[^\n]*|a écrit)\s*:[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


def reply_text(message: Message) -> str:
    """What the sender wrote in ``message``, without the quoted mail or their signature."""
    return strip_quotes(body_text(message))


def strip_quotes(text: str) -> str:
    text = _ATTRIBUTION.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept: list[str] = []
    for line in text.split("\n"):
        if _SIGNATURE.match(line) or _HISTORY.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.replace("\u00a0", " ").rstrip())
    return "\n".join(kept).strip()


def body_text(message: Message) -> str:
    """The message's text: its first text/plain part, else its first HTML part as text."""
    plain = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _decoded(part)
        elif kind == "text/html" and html is None:
            html = _decoded(part)
    if plain is not None and plain.strip():
        return plain
    return html_to_text(html) if html else ""


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul",
           "ol", "pre", "hr", "blockquote", "section", "article", "header", "footer"}
_SKIPPED = {"script", "style", "head", "title", "template"}


class _Text(HTMLParser):
    """HTML as plain text: blocks as lines, ``<blockquote>`` as ``>`` quotes, ``<hr>`` as
    the line Outlook draws above the mail it answers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote = 0
        self.skip = 0
        self.pre = 0

    def _break(self) -> None:
        line = re.sub(r"[ \t]+", " ", "".join(self.current)).strip() if not self.pre else (
            "".join(self.current))
        self.lines.append(("> " * self.quote) + line if (line and self.quote) else line)
        self.current = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in _SKIPPED:
            self.skip += 1
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote += 1
            elif tag == "hr":
                self.lines.append("_" * 32)
            elif tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIPPED:
            self.skip -= 1

    def handle_endtag(self, tag) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data) -> None:
        if self.skip:
            return
        if self.pre:
            for n, chunk in enumerate(data.split("\n")):
                if n:
                    self._break()
                self.current.append(chunk)
        else:
            self.current.append(data.replace("\n", " "))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._break()
    text = "\n".join(parser.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- Automatic mail ------------------------------------------------------------------------
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?reply|autoreply|auto[- ]response"
    r"|abwesend|abwesenheit|abwesenheitsnotiz|automatische antwort|nicht im büro"
    r"|undeliverable|delivery status notification|mail delivery failed|unzustellbar"
    r")\b",
    re.IGNORECASE,
)


def auto_reply_why(message: Message) -> str:
    """Why ``message`` was written by a machine, not a person ("" when it was not): such
    mail decides nothing and is never answered (two robots answering each other forever)."""
    auto = (message.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if message.get(header) is not None:
            return header
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in {"auto_reply", "bulk", "junk", "list"}:
        return f"Precedence: {precedence}"
    if (message.get("Return-Path") or "").strip() == "<>":
        return "a bounce (empty Return-Path)"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    subject = str(message.get("Subject") or "")
    if _AUTO_SUBJECT.match(subject):
        return f"subject “{subject.strip()[:80]}”"
    return ""


# --- Authentication-Results (RFC 8601) -----------------------------------------------------
_RESULT = re.compile(r"\b(dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


def authentication_failed(message: Message, authserv_id: str) -> str:
    """Why the receiving server ``authserv_id`` found the sender unproven, or "" when it
    did not: its ``Authentication-Results`` header says ``dmarc=fail``, or DKIM failed with
    no signature passing. Only the first header of that server counts (the one it added
    on top; anyone can write a header lower down). No header of it at all is a failure too:
    the mail did not come through the server the check relies on."""
    wanted = authserv_id.strip().lower()
    for header in message.get_all("Authentication-Results") or []:
        text = re.sub(r"\([^)]*\)", "", str(header))
        server, _, results = text.partition(";")
        if server.strip().split()[:1] != [wanted]:
            continue
        found: dict[str, set[str]] = {}
        for method, result in _RESULT.findall(results):
            found.setdefault(method.lower(), set()).add(result.lower())
        if "fail" in found.get("dmarc", set()):
            return "dmarc=fail"
        dkim = found.get("dkim", set())
        if dkim and "pass" not in dkim and dkim & {"fail", "permerror"}:
            return "dkim=fail"
        return ""
    return f"no Authentication-Results of {authserv_id}"
