"""Deciding an approval by replying to its e-mail: the one service both doors (the IMAP
mailbox, a provider's webhook) feed. See docs/email-decisions.md.

``inbound_reply_process(message)`` works out who wrote, about which step, and what they ask;
the decision itself is the approval services' (``step_approve``, ``step_reject``,
``step_hold``) with the sender as the actor, so every rule of the page holds (only the
decider or their active delegate, never one's own request, separation of duties, a step
still waiting). Each message is recorded once by its Message-ID (``InboundMessage``, with an
audit event), answered with a short mail (automatic mail never is), and a replay of the same
Message-ID decides nothing.

What is trusted: the reply address's token (signed, naming the step, the approver the
e-mail went to and the step's version) says which step; the From address must be that
approver's or their active delegate's. A From address alone is easy to forge, hence the
token, which only the approver's mailbox received, and, when ``SRM_TRUSTED_AUTHSERV_ID`` is
set, the receiving server's DMARC/DKIM verdict.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parseaddr
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.mailin.address import ReplyToken, reply_token_read, step_version
from accountability.mailin.parse import (
    APPROVE,
    QUESTION,
    REJECT,
    authentication_failed,
    auto_reply_why,
    command_read,
    reply_text,
)
from accountability.models import (
    AnswerStatus,
    InboundDoor,
    InboundMessage,
    InboundOutcome,
    ReplyReason,
)
from approvals.choices import DecisionChannel
from approvals.models import Delegation, Step
from approvals.services import step_approve, step_hold, step_reject
from governance.choices import AuditVerb
from governance.models import User
from governance.services.audit import audit_record
from kit.errors import DomainError
from kit.mail import header_safe
from operations import outbox

logger = logging.getLogger(__name__)

ANSWER_TASK = "accountability.tasks.answer_inbound_mail"
CHANNEL = DecisionChannel.EMAIL_REPLY
# Headers a reply address may arrive in: To and Cc as the person's program wrote them, and
# what the receiving server adds with the envelope recipient (a Bcc, a forward).
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_VERBS = {
    InboundOutcome.DECIDED: AuditVerb.INBOUND_MAIL_DECIDED,
    InboundOutcome.REFUSED: AuditVerb.INBOUND_MAIL_REFUSED,
    InboundOutcome.IGNORED: AuditVerb.INBOUND_MAIL_IGNORED,
}


@dataclass
class Verdict:
    outcome: str
    reason: str
    detail: str = ""
    step: Step | None = None
    actor: User | None = None
    action: str = ""
    answer: bool = True
    # The request may be named in the answer: the sender is the approver or their delegate.
    known: bool = False
    acted_for: User | None = None  # the head a delegate decided for
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyOutcome:
    outcome: str  # InboundOutcome, or "duplicate" for a Message-ID seen before
    reason: str
    detail: str = ""
    inbound: InboundMessage | None = None


DUPLICATE = "duplicate"


def inbound_reply_process(message: Message, *, door: str = InboundDoor.IMAP,
                          envelope_recipient: str = "", at: datetime | None = None) -> ReplyOutcome:
    """Read one message that came in on the reply address, decide if it says so, record it
    and answer it. Safe to call twice with the same message."""
    at = at or timezone.now()
    if message.policy is not policy.default:
        # Parsed the old way (headers still encoded, as imaplib and providers' parsers hand
        # them over): read again, so names and subjects come decoded.
        message = message_from_bytes(message.as_bytes(), policy=policy.default)
    message_id = message_id_of(message)
    if InboundMessage.objects.filter(message_id=message_id).exists():
        logger.info("Inbound mail %s seen before: nothing done again", message_id)
        return ReplyOutcome(DUPLICATE, DUPLICATE)
    sender = parseaddr(str(message.get("From") or ""))[1].strip().lower()
    with transaction.atomic():
        try:
            with transaction.atomic():
                # Inserted first: a second worker with the same message waits on the unique
                # key here until this transaction ends, then finds it taken.
                record = InboundMessage.objects.create(
                    message_id=message_id, door=door, received_at=at, sender=sender[:254],
                    subject=header_safe(str(message.get("Subject") or ""))[:200],
                    outcome=InboundOutcome.IGNORED, reason=ReplyReason.AUTO_REPLY,
                )
        except IntegrityError:
            logger.info("Inbound mail %s seen before: nothing done again", message_id)
            return ReplyOutcome(DUPLICATE, DUPLICATE)
        verdict = _judge(message, message_id=message_id, sender=sender,
                         envelope_recipient=envelope_recipient, at=at)
        record.outcome, record.reason, record.detail = verdict.outcome, verdict.reason, verdict.detail
        record.step, record.actor, record.action = verdict.step, verdict.actor, verdict.action
        if verdict.answer and sender:
            _answer_prepare(record, message, verdict)
        record.save()
        request = verdict.step.request if verdict.step is not None else None
        audit_record(
            actor=verdict.actor, on_behalf_of=verdict.acted_for, verb=_VERBS[verdict.outcome],
            target=record,
            correlation=request.reference if request is not None and verdict.known else "",
            data={"channel": str(CHANNEL), "message_id": message_id, "sender": sender,
                  "outcome": verdict.outcome, "reason": verdict.reason,
                  "action": verdict.action,
                  "step": verdict.step.name if verdict.step is not None else None,
                  "request": request.reference if request is not None else None,
                  **verdict.extra},
            at=at,
        )
        if record.answer_status == AnswerStatus.PENDING:
            outbox.enqueue(ANSWER_TASK, args=[record.pk])
    log = logger.info if verdict.outcome == InboundOutcome.DECIDED else logger.warning
    log("Inbound mail %s from %s: %s (%s) %s", message_id, sender or "nobody", verdict.outcome,
        verdict.reason, verdict.detail)
    return ReplyOutcome(verdict.outcome, verdict.reason, verdict.detail, record)


def message_id_of(message: Message) -> str:
    """The message's Message-ID; one made from its bytes when it has none (the same mail
    delivered twice then still has the same one)."""
    given = str(message.get("Message-ID") or "").strip()
    if given:
        return given[:255]
    digest = hashlib.sha256(message.as_bytes()).hexdigest()
    return f"<sha256-{digest}@srm.invalid>"


def _judge(message: Message, *, message_id: str, sender: str, envelope_recipient: str,
           at: datetime) -> Verdict:
    why = auto_reply_why(message)
    if why:
        return Verdict(InboundOutcome.IGNORED, ReplyReason.AUTO_REPLY, why, answer=False)
    own = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    local = sender.partition("@")[0]
    if not sender or sender == own or local in {"mailer-daemon", "postmaster"}:
        return Verdict(InboundOutcome.IGNORED, ReplyReason.LOOP, sender or "no sender",
                       answer=False)
    token, found = _token(message, envelope_recipient)
    if token is None:
        # Not a reply to SRM at all. Answered only when an SRM person wrote, so spam to the
        # address is not answered (and its forged senders not bothered).
        reason = ReplyReason.INVALID_TOKEN if found else ReplyReason.NOT_A_REPLY
        return Verdict(
            InboundOutcome.REFUSED if found else InboundOutcome.IGNORED, reason,
            _("This address only takes replies to SRM's “waiting for your decision” e-mails, "
              "sent to the address they came with."),
            answer=_is_person(sender))
    if settings.SRM_TRUSTED_AUTHSERV_ID:
        failed = authentication_failed(message, settings.SRM_TRUSTED_AUTHSERV_ID)
        if failed:
            return Verdict(
                InboundOutcome.REFUSED, ReplyReason.NOT_AUTHENTICATED,
                _("Your mail server could not prove the reply came from your address (%(why)s), "
                  "so it decided nothing. Decide on the request's page instead.") % {"why": failed})
    step = (Step.objects.select_related("request", "accountable_head")
            .filter(pk=token.step_id).first())
    if step is None:
        return Verdict(InboundOutcome.REFUSED, ReplyReason.STALE,
                       _("The step this e-mail asked about no longer exists."))
    actor = _sender_as(token, sender, at)
    if actor is None:
        return Verdict(
            InboundOutcome.REFUSED, ReplyReason.WRONG_SENDER,
            _("Only the person this e-mail was sent to, or their delegate, can decide by "
              "replying, from their own address."),
            step=step)
    verdict = Verdict(InboundOutcome.REFUSED, "", step=step, actor=actor, known=True)
    if token.version != step_version(step):
        verdict.reason = ReplyReason.STALE
        verdict.detail = _("This e-mail is about an earlier round of “%(step)s” on %(ref)s; it "
                           "has moved on since. Open the request to see where it is.") % {
            "step": step.name, "ref": step.request.reference}
        return verdict
    command = command_read(reply_text(message))
    verdict.action = command.action
    if not command.action:
        verdict.reason = ReplyReason.UNREADABLE
        verdict.detail = _(
            "The first line of your reply did not say what to do. Write “approve”, “reject” "
            "and the reason, or “?” and your question on the first line (German: "
            "“genehmigt”, “abgelehnt” and the reason).")
        return verdict
    try:
        with transaction.atomic():
            where = {"channel": DecisionChannel.EMAIL_REPLY, "message_id": message_id}
            if command.action == APPROVE:
                step_approve(actor=actor, step=step, comment=command.text, at=at, **where)
            elif command.action == REJECT:
                step_reject(actor=actor, step=step, comment=command.text, at=at, **where)
            else:
                step_hold(actor=actor, step=step, question=command.text, at=at, **where)
            step.refresh_from_db(fields=["acted_for"])
    except DomainError as exc:
        verdict.reason = str(exc.code)
        verdict.detail = exc.message
        return verdict
    verdict.outcome, verdict.reason = InboundOutcome.DECIDED, ReplyReason.DECIDED
    verdict.acted_for = step.acted_for
    verdict.extra = {"text": command.text} if command.text else {}
    return verdict


def _token(message: Message, envelope_recipient: str) -> tuple[ReplyToken | None, bool]:
    """The first valid token among the message's recipients; and whether any address of the
    reply mailbox was there at all (a token altered or made with another key)."""
    values = [str(v) for name in _RECIPIENT_HEADERS for v in (message.get_all(name) or [])]
    if envelope_recipient:
        values.append(envelope_recipient)
    prefix = f"{settings.SRM_REPLY_MAILBOX}+".lower()
    found = False
    for _name, address in getaddresses(values):
        token = reply_token_read(address)
        if token is not None:
            return token, True
        found = found or address.lower().startswith(prefix)
    return None, found


def _sender_as(token: ReplyToken, sender: str, at: datetime) -> User | None:
    """The person the sender is: the approver the e-mail went to, or someone they delegated
    to today, with that address and still able to sign in. Whether that person may decide
    the step now is the approval services' question, not this one's."""
    people = list(User.objects.filter(email__iexact=sender, is_active=True))
    for person in people:
        if person.pk == token.approver_id:
            return person
    day = timezone.localdate(at)
    delegates = Delegation.objects.active(on=day).filter(
        delegator_id=token.approver_id, delegate__in=people).select_related("delegate")
    first = delegates.first()
    return first.delegate if first is not None else None


def _is_person(sender: str) -> bool:
    return User.objects.filter(email__iexact=sender, is_active=True).exists()


# --- Answers -------------------------------------------------------------------------------
def _answer_prepare(record: InboundMessage, message: Message, verdict: Verdict) -> None:
    """Write the short answer on the record; it is sent after the commit."""
    step = verdict.step
    request = step.request if step is not None else None
    link = (urljoin(settings.SRM_BASE_URL.rstrip("/") + "/", request.get_absolute_url().lstrip("/"))
            if request is not None and verdict.known else "")
    if verdict.outcome == InboundOutcome.DECIDED:
        done = {APPROVE: _("You approved “%(step)s” of %(ref)s (%(title)s)."),
                REJECT: _("You rejected “%(step)s” of %(ref)s (%(title)s)."),
                QUESTION: _("Your question about “%(step)s” of %(ref)s (%(title)s) went to the "
                            "requester; the step waits for their answer.")}[verdict.action]
        lines = [done % {"step": step.name, "ref": request.reference, "title": request.title},
                 _("It is recorded in SRM as decided by e-mail reply.")]
    else:
        lines = [_("Your e-mail decided nothing."), verdict.detail]
        if link:
            lines.append(_("You can decide on the request's page:"))
    if link:
        lines.append(link)
    subject = header_safe(str(message.get("Subject") or ""))
    if not subject.lower().startswith(("re:", "aw:", "antw:")):  # "AW:": German Outlook
        subject = f"Re: {subject}" if subject else _("Your reply to SRM")
    references = " ".join(
        part for part in (header_safe(str(message.get("References") or "")), record.message_id)
        if part)
    record.answer_status = AnswerStatus.PENDING
    record.answer_to = record.sender
    record.answer_subject = subject[:200]
    record.answer_body = "\n\n".join(line for line in lines if line)
    record.answer_references = references[-2000:]


def inbound_answer_send(*, inbound_id: int, now: datetime | None = None) -> str:
    """Send one pending answer, at most once (claimed with SKIP LOCKED, marked sent in the
    same transaction). A failure is retried by the sweep, up to the notifications' limit."""
    now = now or timezone.now()
    with transaction.atomic():
        record = (InboundMessage.objects.select_for_update(skip_locked=True)
                  .filter(pk=inbound_id, answer_status=AnswerStatus.PENDING).first())
        if record is None:
            return "skipped"
        record.answer_attempts += 1
        mail = EmailMessage(
            subject=record.answer_subject, body=record.answer_body, to=[record.answer_to],
            headers={
                "In-Reply-To": record.message_id,
                "References": record.answer_references or record.message_id,
                # RFC 3834: an automatic answer, which other robots must not answer in turn.
                "Auto-Submitted": "auto-replied",
                "X-Auto-Response-Suppress": "All",
            },
        )
        try:
            mail.send(fail_silently=False)
        except Exception as exc:
            record.answer_error = f"{type(exc).__name__}: {exc}"[:2000]
            if record.answer_attempts >= settings.SRM_NOTIFICATION_MAX_ATTEMPTS:
                record.answer_status = AnswerStatus.FAILED
            logger.warning("Answer to inbound mail %s not sent: %s", record.message_id,
                           record.answer_error)
            outcome = "failed"
        else:
            record.answer_status, record.answer_sent_at, record.answer_error = (
                AnswerStatus.SENT, now, "")
            outcome = "sent"
        record.save(update_fields=["answer_status", "answer_sent_at", "answer_attempts",
                                   "answer_error"])
        return outcome


def inbound_answers_send(*, now: datetime | None = None, limit: int = 200) -> int:
    """The sweep: send the answers still pending (the on-commit task did not run, or failed)."""
    now = now or timezone.now()
    retry_after = now - timedelta(seconds=settings.SRM_NOTIFICATION_RETRY_SECONDS)
    ids = list(InboundMessage.objects.filter(
        Q(answer_status=AnswerStatus.PENDING),
        Q(answer_attempts=0) | Q(received_at__lte=retry_after),
    ).order_by("received_at").values_list("pk", flat=True)[:limit])
    return sum(inbound_answer_send(inbound_id=pk, now=now) == "sent" for pk in ids)
