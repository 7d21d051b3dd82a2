"""Group → role mapping, the same for the provider's groups claim and the directory's groups."""

from __future__ import annotations

from collections.abc import Iterable

from governance.choices import MembershipRole


def roles_from_groups(groups: Iterable[str], *, ops_leader: str, approver: str,
                      agent: str) -> tuple[bool | None, MembershipRole | None]:
    """(ops leader?, role in the home department) from a person's groups. A mapping left
    empty says nothing (``None``: SRM keeps what an administrator set); with an approver or
    agent group mapped, someone in neither is a plain member. Names compare without case
    (LDAP DNs do)."""
    have = {g.strip().lower() for g in groups}
    leader = ops_leader.strip().lower() in have if ops_leader.strip() else None
    role = None
    if approver.strip() or agent.strip():
        role = MembershipRole.MEMBER
        if agent.strip() and agent.strip().lower() in have:
            role = MembershipRole.AGENT
        if approver.strip() and approver.strip().lower() in have:
            role = MembershipRole.APPROVER
    return leader, role
