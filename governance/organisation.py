"""The organisation page's reads (ops leaders): the department tree with who leads it, its
members and calendar and where each fact came from, and the conflicts to resolve. A fixed
number of queries whatever the size of the organisation: counts are aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from governance.choices import IdentitySource
from governance.models import Department, Membership, User


@dataclass
class Row:
    department: Department
    depth: int
    children: list[Row] = field(default_factory=list)


def organisation_tree(user) -> list[Row]:
    """Every department the user may see on the organisation page, parents before children
    (one query)."""
    departments = list(
        Department.objects.restrict(user, "organisation")
        .select_related("head", "deputy", "parent")
        .annotate(member_count=Count("memberships", distinct=True),
                  directory_members=Count("memberships", distinct=True,
                                          filter=~Q(memberships__source=IdentitySource.LOCAL)))
        .order_by("name"))
    by_parent: dict[int | None, list[Department]] = {}
    known = {d.pk for d in departments}
    for department in departments:
        parent = department.parent_id if department.parent_id in known else None
        by_parent.setdefault(parent, []).append(department)
    rows: list[Row] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for department in by_parent.get(parent, []):
            if department.pk in seen:
                continue
            seen.add(department.pk)
            rows.append(Row(department=department, depth=depth))
            walk(department.pk, depth + 1)

    walk(None, 0)
    # A cycle in the tree (only a broken import could make one) still lists every department.
    rows += [Row(department=d, depth=0) for d in departments if d.pk not in seen]
    return rows


@dataclass
class Conflicts:
    without_head: list[Department]
    heads_elsewhere: list[tuple[User, Department, list[str]]]
    in_several: list[tuple[User, list[str]]]

    @property
    def count(self) -> int:
        return len(self.without_head) + len(self.heads_elsewhere) + len(self.in_several)


def organisation_conflicts(user, rows: list[Row]) -> Conflicts:
    """What an ops leader should resolve: departments without a head; heads who are members of
    another department than the one(s) they head; people in more than one department
    (two queries)."""
    visible = {row.department.pk: row.department for row in rows}
    without_head = [row.department for row in rows if row.department.head_id is None]
    headed: dict[int, set[int]] = {}
    for department in visible.values():
        if department.head_id:
            headed.setdefault(department.head_id, set()).add(department.pk)
    several = (Membership.objects.values("user_id")
               .annotate(n=Count("department", distinct=True)).filter(n__gt=1)
               .values("user_id"))
    memberships = (Membership.objects.filter(department_id__in=visible)
                   .filter(Q(user_id__in=list(headed)) | Q(user_id__in=several))
                   .select_related("user", "department").order_by("user__username",
                                                                  "department__name"))
    by_user: dict[int, list[Membership]] = {}
    for membership in memberships:
        by_user.setdefault(membership.user_id, []).append(membership)
    heads_elsewhere, in_several = [], []
    for user_id, items in by_user.items():
        person = items[0].user
        elsewhere = [m.department.name for m in items
                     if m.department_id not in headed.get(user_id, ())]
        if user_id in headed and elsewhere:
            for department_id in sorted(headed[user_id]):
                heads_elsewhere.append((person, visible[department_id], elsewhere))
        if len({m.department_id for m in items}) > 1:
            in_several.append((person, [m.department.name for m in items]))
    return Conflicts(without_head=without_head, heads_elsewhere=heads_elsewhere,
                     in_several=in_several)


def department_members(user, code: str):
    """The members of one department the user may see on the organisation page (one query),
    or None when there is no such department for them."""
    department = Department.objects.restrict(user, "organisation").filter(code=code).first()
    if department is None:
        return None, []
    members = (Membership.objects.filter(department=department)
               .select_related("user", "user__department").order_by("user__last_name",
                                                                    "user__first_name"))
    return department, list(members)
