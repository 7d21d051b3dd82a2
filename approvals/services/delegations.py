"""Delegation: a head lets someone decide their approvals for a date range."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.models import Delegation
from approvals.selectors import capabilities, delegate_candidates
from governance import limits
from governance.choices import AuditVerb
from governance.errors import Conflict, NotAllowed, ValidationFailed
from governance.limits import checked_text
from governance.models import User
from governance.services.audit import audit_record


@transaction.atomic
def delegation_create(*, actor: User, delegate: User, starts_on: date, ends_on: date,
                      reason: str = "") -> Delegation:
    """``actor`` lets ``delegate`` decide their approvals from ``starts_on`` to ``ends_on``.

    Only someone with approvals to delegate may (a head, deputy or approver: not a delegate
    passing it on), only to one of ``delegate_candidates(actor)``, and from today on."""
    reason = checked_text(reason, limit=limits.DELEGATION_REASON, field="reason",
                          what=gettext_lazy("reason"))
    if not capabilities(actor).may_delegate:
        raise NotAllowed(_("You have no approvals to delegate: heads, deputies and approvers "
                           "delegate theirs."), code="not_decider")
    if delegate.pk == actor.pk:
        yourself = _("Choose someone other than yourself.")
        raise ValidationFailed(yourself, code="delegate_self",
                               field_errors={"delegate": [yourself]})
    if not delegate.is_active:
        raise ValidationFailed(_("%(delegate)s cannot sign in, so cannot act for you.")
                               % {"delegate": delegate},
                               code="delegate_inactive")
    if not delegate_candidates(actor).filter(pk=delegate.pk).exists():
        message = _("%(delegate)s cannot decide for you: choose someone of your department or "
                    "the head above it.") % {"delegate": delegate}
        raise ValidationFailed(message, code="delegate_not_allowed",
                               field_errors={"delegate": [message]})
    if ends_on < starts_on:
        raise ValidationFailed(_("The last day must be on or after the first day."),
                               code="dates_reversed",
                               field_errors={"ends_on": [_("Must be on or after the first day.")]})
    if starts_on < timezone.localdate():
        raise ValidationFailed(_("A delegation cannot start in the past: it starts today at "
                                 "the earliest."), code="dates_past",
                               field_errors={"starts_on": [_("Must be today or later.")]})
    # Lock the delegator's row so two overlapping delegations cannot be created at once.
    User.objects.select_for_update().get(pk=actor.pk)
    overlapping = Delegation.objects.filter(
        delegator=actor, ended_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).first()
    if overlapping is not None:
        raise Conflict(
            _("You already delegate to %(delegate)s from %(starts)s to %(ends)s. End that "
              "delegation first.") % {"delegate": overlapping.delegate,
                                      "starts": overlapping.starts_on, "ends": overlapping.ends_on},
            code="delegation_overlaps",
        )
    delegation = Delegation.objects.create(
        delegator=actor, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason
    )
    audit_record(
        actor=actor,
        verb=AuditVerb.DELEGATION_CREATED,
        target=delegation,
        to_state="active",
        data={"delegate": delegate.username, "starts_on": starts_on, "ends_on": ends_on},
    )
    return delegation


@transaction.atomic
def delegation_end(*, actor: User, delegation: Delegation) -> Delegation:
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.delegator_id != actor.pk and not actor.is_superuser:
        raise NotAllowed(_("Only the person who delegated can end this delegation."),
                         code="not_delegator")
    if delegation.ended_at is not None:
        raise Conflict(_("This delegation has already ended."), code="delegation_ended")
    delegation.ended_at = timezone.now()
    delegation.save(update_fields=["ended_at"])
    audit_record(actor=actor, verb=AuditVerb.DELEGATION_ENDED, target=delegation,
                 from_state="active", to_state="ended")
    return delegation


def delegations_end_for(*, user: User, actor: User | None, at: datetime) -> list[Delegation]:
    """End every delegation ``user`` gave or received that has not ended (current or
    planned), each audited: a person who left neither decides for others nor has anyone
    deciding for them. Call inside the transaction that deactivated them."""
    ended = list(Delegation.objects.select_for_update()
                 .filter(Q(delegator=user) | Q(delegate=user), ended_at__isnull=True,
                         ends_on__gte=timezone.localdate(at))
                 .order_by("pk"))
    for delegation in ended:
        delegation.ended_at = at
        delegation.save(update_fields=["ended_at"])
        audit_record(actor=actor, verb=AuditVerb.DELEGATION_ENDED, target=delegation,
                     from_state="active", to_state="ended",
                     data={"reason": "left", "user": user.username}, at=at)
    return ended
