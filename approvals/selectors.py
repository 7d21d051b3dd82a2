"""Reads for the approvals inbox, the work queue and the navigation: always through
``Step.objects.restrict(user, action)``, with everything a row shows fetched in one query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.models import Delegation, Step
from approvals.roles import roles_now
from governance.models import Department, Membership, User
from kit.rules import request_memo

_ROW_RELATIONS = (
    "request__item",
    "request__requester",
    "request__requester_department",
    "accountable_department",
    "accountable_head",
    "assignee",
)


def inbox_for(user: User) -> QuerySet[Step]:
    """Approvals ``user`` may decide (own or delegated): those waiting for them, oldest due
    first, then those on hold (waiting for the requester's answer)."""
    return (
        Step.objects.restrict(user, "decide")
        .select_related(*_ROW_RELATIONS)
        .order_by(F("on_hold_since").asc(nulls_first=True), "due_at", "pk")
    )


def waiting_for(user: User) -> QuerySet[Step]:
    """What waits for ``user``'s decision now: the approvals they may decide that are not on
    hold. The navigation's badge and the inbox's heading both count this, so they agree."""
    return Step.objects.restrict(user, "decide").filter(on_hold_since__isnull=True)


def on_hold_for(user: User) -> QuerySet[Step]:
    """The approvals ``user`` may decide that wait for their requester's answer."""
    return Step.objects.restrict(user, "decide").filter(on_hold_since__isnull=False)


# The inbox's sort orders: name -> (label, ordering after "on hold last").
INBOX_SORTS = {
    "due": (_("Due first"), ("due_at", "pk")),
    "waiting": (_("Waiting longest"), ("activated_at", "pk")),
    "cost": (_("Highest cost"), (F("request__estimated_cost").desc(nulls_last=True), "due_at", "pk")),
    "requester": (_("Requester"), ("request__requester__last_name",
                                "request__requester__first_name", "due_at", "pk")),
}


@dataclass(frozen=True)
class InboxFilters:
    q: str = ""
    department: int | None = None  # the requester's department
    item: int | None = None
    held: bool | None = None  # True: only on hold; False: only waiting for me
    overdue: bool = False
    min_cost: object = None
    max_cost: object = None
    sort: str = "due"


def inbox_filtered(user: User, filters: InboxFilters, *, now=None) -> QuerySet[Step]:
    """``inbox_for`` narrowed and sorted as the person asked; items on hold stay apart (last)."""
    steps = Step.objects.restrict(user, "decide")
    if q := filters.q.strip():
        words = Q(request__reference__icontains=q) | Q(request__title__icontains=q)
        for part in q.split()[:3]:
            words |= (Q(request__requester__first_name__icontains=part)
                      | Q(request__requester__last_name__icontains=part)
                      | Q(request__requester__username__iexact=part))
        steps = steps.filter(words)
    if filters.department:
        steps = steps.filter(request__requester_department_id=filters.department)
    if filters.item:
        steps = steps.filter(request__item_id=filters.item)
    if filters.held is not None:
        steps = steps.filter(on_hold_since__isnull=not filters.held)
    if filters.overdue:
        steps = steps.filter(on_hold_since__isnull=True, due_at__lt=now or timezone.now())
    if filters.min_cost is not None:
        steps = steps.filter(request__estimated_cost__gte=filters.min_cost)
    if filters.max_cost is not None:
        steps = steps.filter(request__estimated_cost__lte=filters.max_cost)
    _label, ordering = INBOX_SORTS.get(filters.sort, INBOX_SORTS["due"])
    return steps.order_by(F("on_hold_since").asc(nulls_first=True), *ordering)


def set_aside_for(user: User) -> QuerySet[Step]:
    """Approvals ``user`` would decide (as head, delegate or approver) but may not, because
    they already decided another approval step of the same request (separation of duties):
    the inbox lists them apart, saying why."""
    return Step.objects.decidable_by(user, separate=False).exclude(
        pk__in=Step.objects.decidable_by(user).values("pk"))


def inbox_heading_counts(user: User) -> tuple[int, int, int]:
    """(waiting, on hold, set aside) in one query: the inbox's heading. The waiting count
    is ``waiting_for``'s, counted in the same pass as the others."""
    return Step.objects.decision_counts(user)


def inbox_counts(user: User) -> tuple[int, int]:
    """(waiting for my decision, on hold) in one query: the inbox's heading and the
    navigation's badge count the same ``waiting_for``."""
    waiting, held, _set_aside = Step.objects.decision_counts(user)
    return waiting, held


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

    @property
    def may_delegate(self) -> bool:
        """Heads, deputies and approvers delegate; a delegate does not pass it on."""
        return self.leads or self.approver


def capabilities(user: User) -> Capabilities:
    """From the person's role ids (``approvals.roles``): the statement that loads them for
    the visibility rules answers this too, once per HTTP request. Outside one, cached on the
    user object."""
    memo = request_memo()
    cached = None if memo is not None else getattr(user, "_srm_capabilities", None)
    if cached is not None:
        return cached
    roles = roles_now(user)
    result = Capabilities(leads=bool(roles.led), approver=bool(roles.approver_of),
                          agent=bool(roles.agent_of), delegate=bool(roles.delegators))
    if memo is None:
        user._srm_capabilities = result
    return result


def delegate_candidates(user: User) -> QuerySet[User]:
    """The people ``user`` may let decide for them: the active people of the departments they
    belong to, lead or approve for, and the heads and deputies of the departments directly
    above those — never themselves, never the rest of the organisation."""
    own = Department.objects.filter(
        Q(head=user) | Q(deputy=user) | Q(pk=user.department_id)
        | Q(pk__in=Membership.objects.filter(user=user).values("department"))
    ).values("pk")
    leaders = Department.objects.filter(Q(pk__in=own) | Q(children__in=own))
    return (
        User.objects.filter(is_active=True)
        .filter(Q(department__in=own)
                | Q(pk__in=Membership.objects.filter(department__in=own).values("user"))
                | Q(pk__in=leaders.values("head")) | Q(pk__in=leaders.values("deputy")))
        .exclude(pk=user.pk)
    )


def people_matching(people: QuerySet[User], text: str, *, limit: int = 10) -> list[User]:
    """At most ``limit`` of ``people`` whose name or username contains every word of
    ``text`` (two characters at least), by name."""
    words = text.split()
    if len("".join(words)) < 2:
        return []
    for word in words:
        people = people.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word)
                               | Q(username__icontains=word))
    return list(people.select_related("department")
                .order_by("first_name", "last_name", "username")[:limit])


def away_cover(head: User | None, *, on=None) -> Delegation | None:
    """The delegation covering ``head`` today, if they are away (the latest-ending one): what
    the request page shows beside their name, like an out-of-office reply."""
    if head is None:
        return None
    return (Delegation.objects.active(on).filter(delegator=head).select_related("delegate")
            .order_by("-ends_on", "-pk").first())
