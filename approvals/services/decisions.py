"""Approval decisions: approve, reject, and record a decision taken outside the tool."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.choices import DECISIONS, DecisionChannel, StepKind, StepState
from approvals.models import Step
from approvals.services.deciders import _decider
from approvals.services.flow import request_advance, request_close
from approvals.services.separation import require_separate_decider
from approvals.services.steps import _close_step, _lock, _require_active
from approvals.signals import request_approved
from governance import limits
from governance.errors import NotAllowed, ValidationFailed
from governance.limits import checked_text
from governance.models import User
from requests_app.choices import RequestState


@transaction.atomic
def step_approve(*, actor: User, step: Step, comment: str = "", at: datetime | None = None,
                 channel: str = DecisionChannel.PAGE, message_id: str = "",
                 over_budget_reason: str = "") -> Step:
    """Approve ``step`` as its decider (or their delegate); the request moves on.

    ``channel``: where the decision was taken (the page, an e-mail link, an e-mail reply, the
    API), kept on the step and in the audit event with ``message_id`` (the e-mail's
    Message-ID for the e-mail channels). Every channel decides under the same rules.

    When it is the request's last approval, the request's estimated cost is committed
    against its cost centre's budget (``request_approved``); approving beyond the remaining
    budget needs ``over_budget_reason``."""
    at = at or timezone.now()
    comment = checked_text(comment, limit=limits.DECISION_COMMENT, field="comment",
                           what=gettext_lazy("comment"))
    over_budget_reason = checked_text(over_budget_reason, limit=limits.DECISION_COMMENT,
                                      field="over_budget_reason", what="reason")
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.APPROVAL)
    acted_for = _decider(actor, step)
    require_separate_decider(actor=actor, step=step, acted_for=acted_for)
    _close_step(step, state=StepState.APPROVED, actor=actor, acted_for=acted_for,
                comment=comment, at=at, channel=channel, message_id=message_id)
    _approved(step, actor=actor, over_budget_reason=over_budget_reason, at=at)
    request_advance(request=step.request, actor=actor, at=at)
    return step


def _approved(step: Step, *, actor: User, over_budget_reason: str, at: datetime) -> None:
    """``request_approved`` when ``step`` was the last approval step that applies (read from
    the pending steps ``_lock(with_pending=True)`` loaded: no query)."""
    pending = step.request.__dict__.get("_srm_pending_steps")
    if pending is None:
        pending = list(step.request.steps.filter(state=StepState.PENDING))
    if any(s.kind == StepKind.APPROVAL for s in pending):
        return
    request_approved.send(sender=Step, request=step.request, step=step, actor=actor,
                          over_budget_reason=over_budget_reason, at=at)


@transaction.atomic
def step_reject(*, actor: User, step: Step, comment: str, at: datetime | None = None,
                channel: str = DecisionChannel.PAGE, message_id: str = "") -> Step:
    """Reject ``step`` with a reason; the request ends. ``channel`` and ``message_id`` as
    for ``step_approve``."""
    at = at or timezone.now()
    comment = checked_text(comment, limit=limits.DECISION_COMMENT, field="comment",
                           what=gettext_lazy("reason"))
    if not comment:
        raise ValidationFailed(
            _("Say why you reject it: the requester needs the reason."),
            code="comment_required",
            field_errors={"comment": [_("A reason is required to reject.")]},
        )
    step = _lock(step)
    _require_active(step, StepKind.APPROVAL)
    acted_for = _decider(actor, step)
    require_separate_decider(actor=actor, step=step, acted_for=acted_for)
    _close_step(step, state=StepState.REJECTED, actor=actor, acted_for=acted_for,
                comment=comment, at=at, channel=channel, message_id=message_id)
    request_close(request=step.request, state=RequestState.REJECTED, actor=actor, at=at,
                  reason=comment)
    return step


@transaction.atomic
def step_record_outside_decision(*, actor: User, step: Step, reason: str, outcome: str = StepState.APPROVED,
                                 at: datetime | None = None) -> Step:
    """Record an approval decided outside the tool (by email, phone, in a meeting).

    Only ops leaders may, always with the reason; the step is marked ``decided_outside`` so
    the bypass is counted on change plans, never hidden. The request then moves on exactly as
    after ``step_approve`` / ``step_reject``.
    """
    at = at or timezone.now()
    if outcome not in DECISIONS:
        raise ValidationFailed(_("The outcome is either approved or rejected."),
                               code="invalid_outcome",
                               field_errors={"outcome": [_("Choose approved or rejected.")]})
    if not actor.is_ops_leader:
        raise NotAllowed(_("Only an ops leader can record a decision taken outside the tool."),
                         code="not_ops_leader")
    reason = checked_text(reason, limit=limits.DECISION_COMMENT, field="reason",
                           what=gettext_lazy("reason"))
    if not reason:
        raise ValidationFailed(
            _("Say where and by whom it was decided (for example “approved by Hank by email on "
              "3 March”)."),
            code="reason_required",
            field_errors={"reason": [_("A reason is required.")]},
        )
    step = _lock(step, with_pending=True)
    _require_active(step, StepKind.APPROVAL)
    if step.request.requester_id == actor.pk:
        raise NotAllowed(_("You cannot decide on your own request."), code="own_request")
    _close_step(step, state=StepState(outcome), actor=actor, acted_for=None, comment=reason, at=at,
                outside=True)
    if outcome == StepState.APPROVED:
        # Decided outside the tool: the spending was decided there, over budget or not.
        _approved(step, actor=actor, over_budget_reason=reason, at=at)
        request_advance(request=step.request, actor=actor, at=at)
    else:
        request_close(request=step.request, state=RequestState.REJECTED, actor=actor, at=at,
                      reason=reason)
    return step
