"""Notices about a request's conversation, written to the notification outbox in the same
transaction as the event (subscribed in ``GovernanceConfig.ready``; see approvals/signals.py).

- a question puts a step on hold → the requester is told (and reminded);
- the requester answers → whoever asked is told;
- a comment → the requester when someone else wrote it, the accountable head of the active
  step when the requester wrote it. Internal notes never reach the requester.
"""

from __future__ import annotations

from accountability.models import Notification, NotificationKind
from accountability.services.notifications import Draft, notifications_create


def _link(request) -> str:
    return request.get_absolute_url()


def on_step_held(sender, *, step, hold, at, **kwargs) -> None:
    request = step.request
    notifications_create(drafts=[Draft(
        recipient=request.requester,
        kind=NotificationKind.QUESTION,
        subject=f"{request.reference}: {hold.asked_by} needs more information",
        body=(f"{hold.asked_by} asks about “{request.title}”:\n\n{hold.question}\n\n"
              f"“{step.name}” waits for your answer; the time it waits is not charged to "
              f"{step.accountable_department}."),
        link=_link(request),
        dedupe_key=f"hold:{hold.pk}:asked",
    )], at=at)


def on_hold_reminded(sender, *, step, hold, at, **kwargs) -> None:
    request = step.request
    notifications_create(drafts=[Draft(
        recipient=request.requester,
        kind=NotificationKind.REMINDER,
        subject=f"Reminder — {request.reference} waits for your answer",
        body=(f"{hold.asked_by} asked on {hold.started_at:%d %b %Y}:\n\n{hold.question}\n\n"
              "Without an answer the request will be cancelled automatically."),
        link=_link(request),
        dedupe_key=f"hold:{hold.pk}:reminded",
    )], at=at)


def on_step_resumed(sender, *, step, hold, at, **kwargs) -> None:
    request = step.request
    # Answered: the question (and its reminder) no longer waits in the requester's list.
    Notification.objects.about(request).unread().filter(
        recipient=request.requester, kind__in=[NotificationKind.QUESTION, NotificationKind.REMINDER],
    ).update(read_at=at)
    notifications_create(drafts=[Draft(
        recipient=hold.asked_by,
        kind=NotificationKind.ANSWER,
        subject=f"{request.reference}: {request.requester} answered your question",
        body=f"{hold.answer}\n\n“{step.name}” is active again, due {step.due_at:%d %b %Y %H:%M}.",
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
    notifications_create(drafts=[Draft(
        recipient=recipient,
        kind=NotificationKind.COMMENT,
        subject=f"{request.reference}: {author} commented",
        body=comment.body[:2000],
        link=_link(request),
        dedupe_key=f"comment:{comment.pk}",
    )], at=at)
