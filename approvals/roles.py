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

from collections.abc import Callable
from dataclasses import dataclass, fields

from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.choices import MembershipRole
from governance.models import Department, Membership, User
from kit.reads import NotPrepared, Prepared
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


class PreparedForPerson:
    """``build(user, *args).get()`` for the person signed in while an HTTP request is served,
    its statement compiled once per process for each shape of person (``kit.reads.Prepared``):
    the flags the rules read (superuser, ops leader, active) and their role ids, of which
    only how many there are (and which are equal) shapes the SQL. ``build`` is then given a
    stand-in person whose roles are stand-in ids, and the call's person's ids take their
    places. Someone who sees everything has no role read: a rule that reads one for them
    leaves that shape to the plain queryset. Elsewhere (no HTTP request, signed out) the
    plain queryset answers."""

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._prepared = Prepared(self._built_for_stand_in)

    def get(self, user: User, *args):
        memo = request_memo()
        if memo is None or not user.is_authenticated:
            return self._build(user, *args).get()
        flags = (bool(user.is_superuser), bool(user.is_ops_leader), bool(user.is_active))
        if flags[0] or flags[1]:
            ids = (user.pk,)
        else:
            roles = _remembered(memo, user)
            ids = (user.pk, *(getattr(roles, name) for name in _ROLE_FIELDS))
        return self._prepared.get(flags, (ids, args))

    def _built_for_stand_in(self, flags: tuple, values: tuple) -> QuerySet:
        ids, args = values
        superuser, ops_leader, active = flags
        person = User(pk=ids[0], is_superuser=superuser, is_ops_leader=ops_leader,
                      is_active=active)
        request_memo()[("roles", person.pk)] = (
            Roles(**dict(zip(_ROLE_FIELDS, ids[1:], strict=True))) if len(ids) > 1
            else _Unread())
        return self._build(person, *args)


_ROLE_FIELDS = tuple(field.name for field in fields(Roles))


class _Unread:
    """The roles of a shape that reads none."""

    def __getattr__(self, name: str):
        raise NotPrepared(name)
