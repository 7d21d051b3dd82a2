"""Who may decide an approval step."""

from __future__ import annotations

from django.utils.translation import gettext as _

from approvals.models import Delegation, Step
from approvals.services.separation import require_separate_decider
from governance.errors import NotAllowed
from governance.models import User
from governance.selectors import is_approver_of


def _decider(actor: User, step: Step) -> User | None:
    """Check ``actor`` may decide ``step``; return the head they act for when delegated.

    Resolved now, from the organisation as it is at this moment: ``step`` was read under its
    lock, and its ``accountable_head`` is whoever is accountable for it now (the organisation
    services move open steps when a head changes or a person leaves, in the same
    transaction); delegations and approver memberships are read as they are now. The same
    rule as ``Step.objects.restrict(user, "decide")``, which lists what one may decide."""
    if step.request.requester_id == actor.pk:
        raise NotAllowed(_("You cannot decide on your own request."), code="own_request")
    head = step.accountable_head
    if head is not None and not head.is_active:
        head = None
    if head is not None and head.pk == actor.pk:
        return None
    if head is not None and Delegation.objects.active().filter(delegator=head, delegate=actor).exists():
        return head
    if step.template.allow_department_approvers and is_approver_of(actor, step.accountable_department_id):
        return None
    names = {"head": head, "department": step.accountable_department, "step": step.name}
    raise NotAllowed(
        (_("Only %(head)s (head of %(department)s) or their delegate can decide “%(step)s”.")
         if head else
         _("Only the head of %(department)s or their delegate can decide “%(step)s”.")) % names,
        code="not_decider",
    )


def decider_refusal(actor: User, step: Step) -> str | None:
    """Why ``actor`` may not decide ``step`` now, or None: the decider rule above and
    separation of duties, exactly as ``step_approve`` checks them (read only, no lock: a page
    that offers a decision says beforehand why it will be refused)."""
    try:
        acted_for = _decider(actor, step)
        require_separate_decider(actor=actor, step=step, acted_for=acted_for)
    except NotAllowed as exc:
        return exc.message
    return None
