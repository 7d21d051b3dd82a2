"""Reads about the organisation that the other apps' visibility rules build on."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from governance.choices import MembershipRole
from governance.models import Department, Membership, User


def departments_led_by(user: User) -> QuerySet[Department]:
    """Departments the user heads or deputises for."""
    return Department.objects.filter(Q(head=user) | Q(deputy=user))


def department_ids_with_role(user: User, *roles: str) -> QuerySet:
    return Membership.objects.filter(user=user, role__in=roles).values("department_id")


def is_agent_of(user: User, department_id: int) -> bool:
    return Membership.objects.filter(
        user=user, department_id=department_id, role=MembershipRole.AGENT
    ).exists()


def is_approver_of(user: User, department_id: int) -> bool:
    return Membership.objects.filter(
        user=user, department_id=department_id, role=MembershipRole.APPROVER
    ).exists()


def stand_in_for(department: Department, *, absent: User, requester_id: int | None = None,
                 excluded_ids=()) -> User | None:
    """Who answers for ``department`` when ``absent`` (its head, who left) cannot: its deputy,
    else the head of the nearest department above it; never ``absent`` themselves, someone
    who cannot sign in, (for an approval) the requester, or anyone in ``excluded_ids`` (the
    people on the request's other approval steps). None when nobody can."""
    excluded = {absent.pk, requester_id, *excluded_ids}
    deputy = department.deputy
    if deputy is not None and deputy.is_active and deputy.pk not in excluded:
        return deputy
    seen, above = {department.pk}, department.parent
    while above is not None and above.pk not in seen:
        head = above.head
        if head is not None and head.is_active and head.pk not in excluded:
            return head
        seen.add(above.pk)
        above = above.parent
    return None
