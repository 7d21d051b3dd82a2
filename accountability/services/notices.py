"""Notices about a request's conversation, written to the notification outbox in the same
transaction as the event (subscribed in ``GovernanceConfig.ready``; see approvals/signals.py).

- a question puts a step on hold → the requester is told (and reminded);
- the requester answers → whoever asked is told;
- a comment → the requester when someone else wrote it, the accountable head of the active
  step when the requester wrote it. Internal notes never reach the requester.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accountability.models import Notification, NotificationKind
from accountability.services.notifications import Draft, notifications_create
from kit.i18n import in_language_of


def _link(request) -> str:
    return request.get_absolute_url()


def on_step_held(sender, *, step, hold, at, **kwargs) -> None:
    request = step.request
    with in_language_of(request.requester):
        facts = {"reference": request.reference, "asker": hold.asked_by, "title": request.title,
                 "step": step.name, "department": step.accountable_department}
        subject = _("%(reference)s: %(asker)s needs more information") % facts
        body = (_("%(asker)s asks about “%(title)s”:") % facts + f"\n\n{hold.question}\n\n"
                + _("“%(step)s” waits for your answer; the time it waits is not charged to "
                    "%(department)s.") % facts)
    notifications_create(drafts=[Draft(
        recipient=request.requester,
        kind=NotificationKind.QUESTION,
        subject=subject,
        body=body,
        link=_link(request),
        dedupe_key=f"hold:{hold.pk}:asked",
    )], at=at)


def on_hold_reminded(sender, *, step, hold, at, **kwargs) -> None:
    request = step.request
    with in_language_of(request.requester):
        subject = _("Reminder — %(reference)s waits for your answer") % {
            "reference": request.reference}
        body = (_("%(asker)s asked on %(day)s:") % {
            "asker": hold.asked_by, "day": date_format(hold.started_at, "d M Y")}
            + f"\n\n{hold.question}\n\n"
            + _("Without an answer the request will be cancelled automatically."))
    notifications_create(drafts=[Draft(
        recipient=request.requester,
        kind=NotificationKind.REMINDER,
        subject=subject,
        body=body,
        link=_link(request),
        dedupe_key=f"hold:{hold.pk}:reminded",
    )], at=at)


def on_step_resumed(sender, *, step, hold, at, **kwargs) -> None:
    request = step.request
    # Answered: the question (and its reminder) no longer waits in the requester's list.
    Notification.objects.about(request).unread().filter(
        recipient=request.requester, kind__in=[NotificationKind.QUESTION, NotificationKind.REMINDER],
    ).update(read_at=at)
    with in_language_of(hold.asked_by):
        subject = _("%(reference)s: %(requester)s answered your question") % {
            "reference": request.reference, "requester": request.requester}
        body = f"{hold.answer}\n\n" + _("“%(step)s” is active again, due %(due)s.") % {
            "step": step.name, "due": date_format(step.due_at, "d M Y H:i")}
    notifications_create(drafts=[Draft(
        recipient=hold.asked_by,
        kind=NotificationKind.ANSWER,
        subject=subject,
        body=body,
        link=_link(request),
        dedupe_key=f"hold:{hold.pk}:answered",
    )], at=at)


def on_comment_added(sender, *, comment, at, **kwargs) -> None:
    request = comment.request
    author = comment.author
    if author is None:
        return  # SRM's own messages (an automatic cancellation) arrive with their own notices
    if author.pk == request.requester_id:
        step = request.current_step
        recipient = step.accountable_head if step is not None else None
    elif comment.internal:
        return
    else:
        recipient = request.requester
    if recipient is None or recipient.pk == author.pk:
        return
    with in_language_of(recipient):
        subject = _("%(reference)s: %(author)s commented") % {"reference": request.reference,
                                                             "author": author}
    notifications_create(drafts=[Draft(
        recipient=recipient,
        kind=NotificationKind.COMMENT,
        subject=subject,
        body=comment.body[:2000],
        link=_link(request),
        dedupe_key=f"comment:{comment.pk}",
    )], at=at)
