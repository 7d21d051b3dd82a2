"""Who may decide an approval step."""

from __future__ import annotations

from approvals.models import Delegation, Step
from governance.errors import NotAllowed
from governance.models import User
from governance.selectors import is_approver_of


def _decider(actor: User, step: Step) -> User | None:
    """Check ``actor`` may decide ``step``; return the head they act for when delegated."""
    if step.request.requester_id == actor.pk:
        raise NotAllowed("You cannot decide on your own request.", code="own_request")
    head = step.accountable_head
    if head is not None and head.pk == actor.pk:
        return None
    if head is not None and Delegation.objects.active().filter(delegator=head, delegate=actor).exists():
        return head
    if step.template.allow_department_approvers and is_approver_of(actor, step.accountable_department_id):
        return None
    raise NotAllowed(
        f"Only {head} (head of {step.accountable_department}) or their delegate can decide "
        f"“{step.name}”.",
        code="not_decider",
    )
