"""“More information needed”: a step waits for the requester's answer with its clock stopped.

The decider of an approval step or an agent of an execution step asks a question
(``step_hold``); the step keeps ``on_hold_since`` until the requester answers
(``step_answer``), and its due time then moves later by exactly the business time it spent on
hold. Unanswered questions are reminded after ``SRM_HOLD_REMIND_BUSINESS_DAYS`` and cancel the
request after ``SRM_HOLD_CANCEL_BUSINESS_DAYS`` (``holds_process_due``, run by Celery beat).
Every hold, answer, reminder and cancellation writes an audit event. See docs/conversation.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.choices import DecisionChannel, StepKind, StepState
from approvals.models import Step, StepHold
from approvals.services.deciders import _decider
from approvals.services.flow import request_close
from approvals.services.separation import require_separate_decider
from approvals.services.steps import _close_step, _lock, channel_data, due_after_hold, hold_end
from approvals.signals import hold_reminded, step_held, step_resumed
from governance.choices import AuditVerb
from governance.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from governance.models import User
from governance.selectors import is_agent_of
from governance.services.audit import audit_record
from kit.i18n import in_language_of
from requests_app.choices import RequestState
from requests_app.files import check_uploads
from requests_app.services_conversation import clean_text, comment_store, files_discarded_on_error

logger = logging.getLogger(__name__)


def _asker(actor: User, step: Step) -> User | None:
    """Check ``actor`` may put ``step`` on hold; return the head a delegate acts for."""
    if step.kind == StepKind.APPROVAL:
        acted_for = _decider(actor, step)
        require_separate_decider(actor=actor, step=step, acted_for=acted_for)
        return acted_for
    if not is_agent_of(actor, step.accountable_department_id):
        raise NotAllowed(
            _("Only agents of %(department)s can ask the requester about “%(step)s”.") % {
                "department": step.accountable_department, "step": step.name},
            code="not_agent",
        )
    return None


def _require_active(step: Step) -> None:
    if step.state != StepState.ACTIVE:
        raise Conflict(
            _("“%(step)s” on %(reference)s is %(state)s, not waiting for anyone.") % {
                "step": step.name, "reference": step.request.reference,
                "state": step.get_state_display().lower()},
            code="step_not_active",
        )


@transaction.atomic
def step_hold(*, actor: User, step: Step, question: str, at: datetime | None = None,
              channel: str = DecisionChannel.PAGE, message_id: str = "") -> StepHold:
    """Put an active step on hold with a question for the requester: its clock stops.
    ``channel`` and ``message_id``: where the question was asked (as for ``step_approve``),
    kept in the audit event."""
    at = at or timezone.now()
    question = clean_text(question, field="question", what=gettext_lazy("question"))
    if not question:
        raise ValidationFailed(
            _("Write the question the requester should answer."), code="question_required",
            field_errors={"question": [_("Write your question.")]},
        )
    step = _lock(step)
    _require_active(step)
    acted_for = _asker(actor, step)
    request = step.request
    if step.on_hold_since is not None:
        raise Conflict(
            _("“%(step)s” on %(reference)s is already waiting for the requester's answer "
              "(since %(since)s).") % {
                "step": step.name, "reference": request.reference,
                "since": date_format(timezone.localtime(step.on_hold_since), "DATETIME_FORMAT")},
            code="already_on_hold",
        )
    calendar = step.accountable_department.calendar
    day = calendar.day_hours
    comment = comment_store(request=request, author=actor, body=question, internal=False,
                            files=[], at=at, stored=[])
    hold = StepHold.objects.create(
        step=step, asked_by=actor, question=question, question_comment=comment, started_at=at,
        remind_at=calendar.add(at, day * settings.SRM_HOLD_REMIND_BUSINESS_DAYS),
        expires_at=calendar.add(at, day * settings.SRM_HOLD_CANCEL_BUSINESS_DAYS),
    )
    step.on_hold_since = at
    step.save(update_fields=["on_hold_since"])
    audit_record(
        actor=actor,
        on_behalf_of=acted_for,
        verb=AuditVerb.STEP_HELD,
        target=step,
        correlation=request.reference,
        data={"step": step.name, "hold": hold.pk, "question": question,
              "remind_at": hold.remind_at, "expires_at": hold.expires_at,
              **channel_data(channel, message_id)},
        at=at,
    )
    step_held.send(sender=Step, step=step, hold=hold, at=at)
    return hold


@transaction.atomic
def step_answer(*, actor: User, answer: str, step: Step | None = None,
                hold: StepHold | None = None, files: Iterable[UploadedFile] = (),
                at: datetime | None = None) -> StepHold:
    """The requester answers the open question on ``step`` (or ``hold``): the step resumes and
    its due time moves later by the business time it spent on hold."""
    if (step is None) == (hold is None):
        raise TypeError("Pass either step= or hold=.")
    at = at or timezone.now()
    answer = clean_text(answer, field="answer", what=gettext_lazy("answer"))
    if not answer:
        raise ValidationFailed(_("Write your answer."), code="answer_required",
                               field_errors={"answer": [_("Write your answer.")]})
    checked = check_uploads(files)
    step = _lock(step or Step.objects.only("pk", "request_id").get(pk=hold.step_id))
    request = step.request
    open_hold = StepHold.objects.select_for_update().filter(step=step).open().first()
    if open_hold is None or (hold is not None and open_hold.pk != hold.pk):
        raise Conflict(
            _("There is no open question on “%(step)s” of %(reference)s: it was already "
              "answered, or the request has moved on.") % {
                "step": step.name, "reference": request.reference},
            code="no_open_question",
        )
    hold = open_hold
    hold.step = step
    if actor.pk != request.requester_id:
        raise NotAllowed(_("Only %(requester)s, who made the request, can answer.")
                         % {"requester": request.requester},
                         code="not_requester")
    _require_active(step)
    with files_discarded_on_error() as stored:
        comment = comment_store(request=request, author=actor, body=answer, internal=False,
                                files=checked, at=at, stored=stored)
        hold.answered_at, hold.answered_by, hold.answer = at, actor, answer
        hold.answer_comment = comment
        hold.business_hours = hold.business_hours_until(at)
        hold.save(update_fields=["answered_at", "answered_by", "answer", "answer_comment",
                                 "business_hours"])
        old_due = step.due_at
        step.due_at = due_after_hold(step=step, hold=hold, at=at)
        step.on_hold_since = None
        step.save(update_fields=["due_at", "on_hold_since"])
        old_request_due = request.due_at
        if old_request_due is not None:
            # The request's own due time is in the fulfilling department's business time.
            fulfilling = request.item.fulfilling_department.calendar
            request.due_at = fulfilling.add(old_request_due,
                                            fulfilling.hours_between(hold.started_at, at))
            request.save(update_fields=["due_at"])
        audit_record(
            actor=actor,
            verb=AuditVerb.STEP_ANSWERED,
            target=step,
            from_state="on_hold",
            to_state=StepState.ACTIVE,
            correlation=request.reference,
            data={"step": step.name, "hold": hold.pk, "answer": answer,
                  "business_hours": hold.business_hours, "due_at_before": old_due,
                  "due_at": step.due_at, "request_due_at_before": old_request_due,
                  "request_due_at": request.due_at,
                  "attachments": [a.original_name for a in comment.attachments.all()]},
            at=at,
        )
        step_resumed.send(sender=Step, step=step, hold=hold, at=at)
    return hold


def _hold_id(hold: StepHold | int) -> int:
    return hold if isinstance(hold, int) else hold.pk


@transaction.atomic
def hold_remind(*, hold: StepHold | int, at: datetime | None = None) -> bool:
    """Remind the requester of an unanswered question once its reminder time has come.
    Safe to run twice: only the first run finds the hold not yet reminded."""
    at = at or timezone.now()
    reminded = StepHold.objects.open().filter(
        pk=_hold_id(hold), reminded_at__isnull=True, remind_at__lte=at
    ).update(reminded_at=at)
    if not reminded:
        return False
    hold = StepHold.objects.select_related("step__request__requester").get(pk=_hold_id(hold))
    step = hold.step
    audit_record(
        actor=None,
        verb=AuditVerb.STEP_HOLD_REMINDED,
        target=step,
        correlation=step.request.reference,
        data={"step": step.name, "hold": hold.pk, "requester": step.request.requester.username,
              "expires_at": hold.expires_at},
        at=at,
    )
    hold_reminded.send(sender=Step, step=step, hold=hold, at=at)
    return True


@transaction.atomic
def hold_expire(*, hold: StepHold | int, at: datetime | None = None) -> bool:
    """Cancel the request of a question left unanswered past its limit, saying why in the
    timeline. Returns False when there is nothing to do (answered meanwhile, not yet due)."""
    at = at or timezone.now()
    step = _lock(Step.objects.only("pk", "request_id").get(holds__pk=_hold_id(hold)))
    hold = (StepHold.objects.select_for_update(of=("self",)).select_related("asked_by")
            .get(pk=_hold_id(hold)))
    if not hold.is_open or at < hold.expires_at or step.state != StepState.ACTIVE:
        return False
    request = step.request
    hold.step = step
    # Stored in the timeline: written in the language of the requester, who reads it.
    with in_language_of(request.requester):
        message = _("Cancelled automatically: %(asker)s's question of %(asked)s on “%(step)s” "
                    "was not answered within %(days)s business days. Submit a new request if it "
                    "is still needed.") % {
            "asker": hold.asked_by, "step": step.name,
            "asked": date_format(timezone.localtime(hold.started_at), "DATE_FORMAT"),
            "days": settings.SRM_HOLD_CANCEL_BUSINESS_DAYS}
    hold_end(step=step, hold=hold, at=at)
    comment_store(request=request, author=None, body=message, internal=False, files=[], at=at,
                  stored=[])
    audit_record(
        actor=None,
        verb=AuditVerb.STEP_HOLD_EXPIRED,
        target=step,
        correlation=request.reference,
        data={"step": step.name, "hold": hold.pk, "question": hold.question,
              "business_hours": hold.business_hours, "message": message},
        at=at,
    )
    _close_step(step, state=StepState.CANCELLED, actor=None, acted_for=None, comment=message,
                at=at)
    request_close(request=request, state=RequestState.CANCELLED, actor=None, at=at,
                  reason=message)
    return True


def holds_process_due(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Expire and remind every hold whose time has come. The due holds are found with one
    indexed query each; every hold is then handled in its own transaction, so one failure
    does not hold back the others and a second run does nothing twice."""
    now = now or timezone.now()
    open_holds = StepHold.objects.open()
    counts = {"expired": 0, "reminded": 0, "skipped": 0, "failed": 0}
    due = open_holds.filter(expires_at__lte=now).order_by("expires_at")
    for pk in due.values_list("pk", flat=True)[:limit]:
        counts[_outcome(hold_expire, pk, now, "expired")] += 1
    due = open_holds.filter(remind_at__lte=now, reminded_at__isnull=True, expires_at__gt=now)
    for pk in due.order_by("remind_at").values_list("pk", flat=True)[:limit]:
        counts[_outcome(hold_remind, pk, now, "reminded")] += 1
    return counts


def _outcome(action, pk: int, now: datetime, done: str) -> str:
    try:
        return done if action(hold=pk, at=now) else "skipped"
    except DomainError:
        logger.exception("Hold %s: %s failed", pk, action.__name__)
        return "failed"
