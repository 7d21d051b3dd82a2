"""Reads for a request's conversation panel, through the visibility rules of each model."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch

from approvals.choices import StepState
from approvals.models import Step, StepHold
from governance.models import User
from requests_app.models import Attachment, Comment, ServiceRequest, conversation_access


@dataclass
class Conversation:
    request: ServiceRequest
    comments: list[Comment] = field(default_factory=list)
    request_files: list[Attachment] = field(default_factory=list)
    step: Step | None = None
    hold: StepHold | None = None
    can_comment: bool = False
    can_note: bool = False
    can_hold: bool = False
    can_answer: bool = False


def comments_for(*, user: User, request: ServiceRequest):
    files = Attachment.objects.select_related("uploaded_by").order_by("created_at", "id")
    return (
        Comment.objects.restrict(user, request=request)
        .select_related("author", "hold_asked", "hold_answered")
        .prefetch_related(Prefetch("attachments", queryset=files))
    )


def with_conversation_presence(requests):
    """``requests``, each row also saying whether its request has any comment and any file
    attached to the request itself (whoever may see them): ``conversation_for`` then reads
    neither for a request that has none, as most have. Two index probes in the row's own
    statement instead of two statements."""
    return requests.annotate(
        srm_has_comments=Exists(Comment.objects.filter(request=OuterRef("pk"))),
        srm_has_request_files=Exists(
            Attachment.objects.filter(request=OuterRef("pk"), comment__isnull=True)),
    )


def conversation_for(*, user: User, request: ServiceRequest) -> Conversation:
    """What ``user`` sees of the request's conversation and what they may do there. Empty
    for someone who may not see the request."""
    conversation = Conversation(request=request)
    if not conversation_access(user, request)[0]:
        return conversation
    conversation.can_comment = request.can_comment(user)
    # Read through the rules unless the request's row said there is nothing to read at all
    # (``with_conversation_presence``): what the rules keep of no rows is no rows.
    if request.__dict__.get("srm_has_comments", True):
        conversation.comments = list(comments_for(user=user, request=request))
    if request.__dict__.get("srm_has_request_files", True):
        conversation.request_files = list(
            Attachment.objects.restrict(user, request=request)
            .filter(comment__isnull=True)
            .select_related("uploaded_by")
        )
    conversation.can_note = request.can_note(user)
    prefetched = getattr(request, "_prefetched_objects_cache", {}).get("steps")
    if prefetched is not None:  # the request page read its steps already (with these rows)
        step = next((s for s in prefetched if s.state == StepState.ACTIVE), None)
    else:
        step = (
            Step.objects.filter(request=request, state=StepState.ACTIVE)
            .select_related("accountable_department", "accountable_head")
            .first()
        )
    conversation.step = step
    if step is None:
        return conversation
    if step.on_hold_since is not None:
        conversation.hold = (
            StepHold.objects.open().filter(step=step).select_related("asked_by").first()
        )
        # step_answer's rule, on the active step read here.
        conversation.can_answer = conversation.hold is not None and (
            user.pk == request.requester_id)
    conversation.can_hold = step.can_hold(user)
    return conversation
