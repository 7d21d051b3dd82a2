"""Domain events the lifecycle emits, inside the transaction that caused them.

The accountability layer (delay risks, notifications) subscribes to these; the
lifecycle never calls its services. Receivers run in the same transaction, so whatever they
write commits or rolls back together with the step.

``step_closed(step, at)``
    An active step left the active state: approved, rejected, done or cancelled.
    ``step.state`` says which.

``step_held(step, hold, at)``
    The decider or an agent asked the requester a question (``hold.question``): the step is
    on hold (``step.on_hold_since`` is set) and its clock is stopped. Notify the requester.

``step_resumed(step, hold, at)``
    The requester answered (``hold.answer``): the step is active again; if it was not yet
    overdue when the hold started, ``step.due_at`` has moved later by ``hold.business_hours``
    (``approvals.services.due_after_hold``). Notify ``hold.asked_by``.

``hold_reminded(step, hold, at)``
    A hold has waited ``SRM_HOLD_REMIND_BUSINESS_DAYS`` without an answer. Remind the
    requester. (A hold past ``SRM_HOLD_CANCEL_BUSINESS_DAYS`` cancels the request, which sends
    ``step_closed`` as for any cancellation.)

``request_submitted(request, steps, at)``
    A request was submitted: ``steps`` is its path in order (saved; the first one that applies
    is active, or none when nothing applied and the request was fulfilled at once). Tell the
    requester what happens next and the first decider that an item waits for them.

``step_handed_over(step, at)``
    A later step of the path became active (the one before it was approved or done). Tell
    whoever decides it that it waits for them.

``request_approved(request, step, actor, over_budget_reason, at)``
    ``step`` was the request's last approval step that applies and was just approved (on the
    page, by API, or recorded as decided outside the tool): the request's spending is
    decided. Commit its estimated cost against the requester's cost centre; a receiver may
    refuse (raise a domain error, e.g. ``over_budget`` without ``over_budget_reason``), which
    rolls the approval back.

``request_closed(request, state, actor, reason, at)``
    The request was fulfilled, rejected or cancelled (``state``); ``reason`` is the
    rejection's reason or the cancellation's (empty when none was given). Tell the requester.

``steps_reassigned(moves, reason, actor, at)``
    Open steps moved to whoever is accountable for them now (``reason``: a
    ``ReassignReason``): ``moves`` is a list of ``approvals.services.reassign.Move`` (the
    step, already saved, and the head it had). Charge delay from ``at`` on to the new
    head, tell them what now waits for them, and stop telling the old one.

``steps_released(user, steps, reason, actor, at)``
    Execution steps ``user`` had taken on went back to their departments' queues, nobody's
    now (``reason``: a ``ReleaseReason``, they moved to another department or left):
    ``steps`` are saved, each with its ``accountable_department``. Tell each department's
    head what is back in the queue, and ``user``, while they can still sign in, that the
    work is no longer theirs.

``comment_added(comment, at)``
    A comment or an internal note (``comment.internal``) was added to ``comment.request``.
    Receivers must not tell the requester about an internal note. Questions and answers of
    holds send ``step_held`` / ``step_resumed`` instead.
"""

from django.dispatch import Signal

step_closed = Signal()
step_held = Signal()
step_resumed = Signal()
hold_reminded = Signal()
comment_added = Signal()
request_submitted = Signal()
step_handed_over = Signal()
request_approved = Signal()
request_closed = Signal()
steps_reassigned = Signal()
steps_released = Signal()
