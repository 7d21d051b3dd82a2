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
