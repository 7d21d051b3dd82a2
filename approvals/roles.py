"""A person's roles as the visibility rules need them: the departments they head or
deputise, the departments where they are a member, approver or agent, and the heads who
delegated to them today.

While an HTTP request is served (``kit.rules.Serving``), ``role_ids(user)`` reads them in one
statement the first time a rule or the navigation asks, and the rules put the ids into their
SQL as short literal lists (``accountable_department IN (3, 7)``) instead of a subquery per
set in every statement. They are remembered for that HTTP request only, and forgotten at
once when a membership, a department's head or deputy, a delegation or a person is saved
or deleted in this process (``forget_roles``): a page shown after a change sees the change.

Elsewhere (services, tasks, the shell) ``role_ids`` answers with the same sets as subqueries,
read by the statement that uses them: nothing is remembered between two statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.choices import MembershipRole
from governance.models import Department, Membership, User
from kit.rules import request_memo


@dataclass(frozen=True)
class Roles:
    """The ids, read once for the HTTP request being served."""

    user_id: int
    led: tuple[int, ...]  # departments headed or deputised
    member_of: tuple[int, ...]  # departments with a membership, any role
    approver_of: tuple[int, ...]
    agent_of: tuple[int, ...]
    delegators: tuple[int, ...]  # who delegated to them, active today
    active_delegators: tuple[int, ...]  # of those, the ones who can still sign in

    loaded = True

    @property
    def working(self) -> tuple[int, ...]:
        """Departments where they are an agent or an approver."""
        return self.agent_of + self.approver_of


class LiveRoles:
    """The same sets as subqueries, for a statement outside an HTTP request."""

    loaded = False

    def __init__(self, user: User):
        self.user = user
        self.user_id = user.pk

    @property
    def led(self) -> QuerySet:
        return Department.objects.filter(Q(head=self.user) | Q(deputy=self.user)).values("pk")

    @property
    def member_of(self) -> QuerySet:
        return Membership.objects.filter(user=self.user).values("department_id")

    def _with_role(self, *roles: str) -> QuerySet:
        return Membership.objects.filter(user=self.user, role__in=roles).values("department_id")

    @property
    def approver_of(self) -> QuerySet:
        return self._with_role(MembershipRole.APPROVER)

    @property
    def agent_of(self) -> QuerySet:
        return self._with_role(MembershipRole.AGENT)

    @property
    def working(self) -> QuerySet:
        return self._with_role(MembershipRole.AGENT, MembershipRole.APPROVER)

    @property
    def delegators(self) -> QuerySet:
        return _delegations().active().filter(delegate=self.user).values("delegator_id")

    @property
    def active_delegators(self) -> QuerySet:
        return (_delegations().active().filter(delegate=self.user, delegator__is_active=True)
                .order_by().values("delegator_id"))


def role_ids(user: User) -> Roles | LiveRoles:
    """``user``'s roles for a rule: loaded once per HTTP request while one is served, as
    subqueries otherwise. ``user`` is signed in."""
    memo = request_memo()
    if memo is None:
        return LiveRoles(user)
    return _remembered(memo, user)


def roles_now(user: User) -> Roles:
    """``user``'s roles read now (one statement), remembered while an HTTP request is served:
    for questions answered in Python (the navigation's role check)."""
    memo = request_memo()
    return _load(user) if memo is None else _remembered(memo, user)


def _remembered(memo: dict, user: User) -> Roles:
    key = ("roles", user.pk)
    roles = memo.get(key)
    if roles is None:
        roles = memo[key] = _load(user)
    return roles


def _delegations():
    """The Delegation model's manager. approvals.models builds its rules from this module, so
    the model is looked up in the app registry rather than imported (no import cycle)."""
    return apps.get_model("approvals", "Delegation").objects


def _load(user: User) -> Roles:
    department, membership = Department._meta, Membership._meta
    delegation, person = _delegations().model._meta, User._meta
    today = timezone.localdate()
    # One statement, each part from its own index: (what, department or person id) rows.
    sql = (
        f"SELECT 'led', id FROM {department.db_table} WHERE head_id = %s OR deputy_id = %s "
        f"UNION ALL SELECT role, department_id FROM {membership.db_table} WHERE user_id = %s "
        f"UNION ALL SELECT CASE WHEN p.is_active THEN 'delegator' ELSE 'delegator_off' END, "
        f"d.delegator_id FROM {delegation.db_table} d JOIN {person.db_table} p "
        f"ON p.id = d.delegator_id WHERE d.delegate_id = %s AND d.starts_on <= %s "
        f"AND d.ends_on >= %s AND d.ended_at IS NULL"
    )
    found: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, user.pk, user.pk, today, today])
        for what, pk in cursor.fetchall():
            found.setdefault(what, []).append(pk)
    led = found.pop("led", [])
    on, off = found.pop("delegator", []), found.pop("delegator_off", [])
    approvers = found.get(MembershipRole.APPROVER, [])
    agents = found.get(MembershipRole.AGENT, [])
    return Roles(
        user_id=user.pk,
        led=tuple(sorted(set(led))),
        member_of=tuple(sorted({pk for ids in found.values() for pk in ids})),
        approver_of=tuple(sorted(set(approvers))),
        agent_of=tuple(sorted(set(agents))),
        delegators=tuple(sorted({*on, *off})),
        active_delegators=tuple(sorted(set(on))),
    )


def forget_roles(**_kwargs) -> None:
    """A role changed in this process: what the HTTP request being served remembers (roles
    and the rules built from them) is read again."""
    memo = request_memo()
    if memo is not None:
        memo.clear()
