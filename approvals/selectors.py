"""Reads for the approvals inbox, the work queue and the navigation: always through
``Step.objects.restrict(user, action)``, with everything a row shows fetched in one query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from approvals.models import Delegation, Step
from governance.choices import MembershipRole
from governance.models import Department, Membership, User

_ROW_RELATIONS = (
    "request__item",
    "request__requester",
    "request__requester_department",
    "accountable_department",
    "accountable_head",
    "assignee",
)


def inbox_for(user: User) -> QuerySet[Step]:
    """Approvals waiting for ``user``'s decision (own or delegated), oldest due first."""
    return (
        Step.objects.restrict(user, "decide")
        .select_related(*_ROW_RELATIONS)
        .order_by("due_at", "pk")
    )


def work_queue_for(user: User) -> QuerySet[Step]:
    """Active execution steps of the departments where ``user`` is an agent, oldest due first."""
    return (
        Step.objects.restrict(user, "work")
        .select_related(*_ROW_RELATIONS)
        .order_by("due_at", "pk")
    )


@dataclass(frozen=True)
class Capabilities:
    """What parts of the product a person may use (for the navigation and the landing page)."""

    leads: bool
    approver: bool
    agent: bool
    delegate: bool

    @property
    def may_approve(self) -> bool:
        return self.leads or self.approver or self.delegate


def capabilities(user: User) -> Capabilities:
    """One query per request, cached on the user object the request carries."""
    cached = getattr(user, "_srm_capabilities", None)
    if cached is not None:
        return cached
    me = OuterRef("pk")
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            leads=Exists(Department.objects.filter(Q(head=me) | Q(deputy=me))),
            approver=Exists(Membership.objects.filter(user=me, role=MembershipRole.APPROVER)),
            agent=Exists(Membership.objects.filter(user=me, role=MembershipRole.AGENT)),
            delegate=Exists(Delegation.objects.active().filter(delegate=me)),
        )
        .values("leads", "approver", "agent", "delegate")
        .get()
    )
    result = Capabilities(**row)
    user._srm_capabilities = result
    return result
