"""Who sees which departments' accountability numbers (board, department pages, handoffs and
the quarterly report): ops leaders (and superusers) every department; a head or deputy the
departments they lead and all departments below them; nobody else any."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from governance.models import Department
from governance.selectors import departments_led_by


def sees_everything(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.is_ops_leader))


def department_ids_in_scope(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    tree = dict(Department.objects.values_list("pk", "parent_id"))
    if sees_everything(user):
        return set(tree)
    scope = set(departments_led_by(user).values_list("pk", flat=True))
    if not scope:
        return scope
    # Departments are a small table: walk the tree in memory rather than recursive SQL.
    children: dict[int | None, list[int]] = {}
    for pk, parent in tree.items():
        children.setdefault(parent, []).append(pk)
    stack = list(scope)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in scope:
                scope.add(child)
                stack.append(child)
    return scope


def departments_in_scope(user) -> QuerySet[Department]:
    ids = department_ids_in_scope(user)
    return Department.objects.filter(pk__in=ids).select_related("head", "deputy", "parent")


def may_see_accountability(user) -> bool:
    """For the navigation and the pages' first check: one cheap query at most."""
    if not user.is_authenticated:
        return False
    # Cached on the user object: the navigation asks for two entries on every page.
    cached = getattr(user, "_srm_sees_accountability", None)
    if cached is None:
        cached = sees_everything(user) or departments_led_by(user).exists()
        user._srm_sees_accountability = cached
    return cached


def department_in_scope(user, code: str) -> Department:
    """The department with ``code`` if the user may see its accountability, else 404."""
    department = departments_in_scope(user).filter(code=code).first()
    if department is None:
        raise Http404("No such department.")
    return department


def within(queryset: QuerySet, field: str, ids, *, everything: bool = False) -> QuerySet:
    """``queryset`` limited to the departments ``ids`` through ``field`` — or left whole when
    the reader sees every department, so the planner is not handed a list of every id (which
    turns index scans into sequential ones on large tables)."""
    return queryset if everything else queryset.filter(**{f"{field}__in": ids})
