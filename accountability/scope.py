"""Who sees which departments' accountability numbers (board, department pages, handoffs and
the quarterly report): ops leaders (and superusers) every department; a head or deputy the
departments they lead and all departments below them; nobody else any."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from approvals.selectors import capabilities
from governance.models import Department
from governance.models.org import accountability_scope_ids
from kit.rules import note_asked


def sees_everything(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.is_ops_leader))


def department_ids_in_scope(user) -> set[int]:
    """The ids of ``Department.objects.restrict(user, "accountability")``."""
    note_asked(Department, "accountability")
    return accountability_scope_ids(user)


def departments_in_scope(user) -> QuerySet[Department]:
    """Departments whose accountability ``user`` may see: the department rule."""
    return Department.objects.restrict(user, "accountability").select_related(
        "head", "deputy", "parent")


def may_see_accountability(user) -> bool:
    """For the navigation and the pages' first check: whether the person leads a department
    comes from their capabilities, which the navigation reads on every page anyway (one query
    per request for both, cached on the user object)."""
    if not user.is_authenticated:
        return False
    return sees_everything(user) or capabilities(user).leads


# What the board shows of a department, as ``departments_shown`` reads it.
SHOWN = ("pk", "code", "name", "head__first_name", "head__last_name", "head__username")


def departments_shown(user) -> list[tuple]:
    """What the board shows of each department whose accountability ``user`` may see (the
    department rule), in one statement of plain values: id, code, name and the head's first
    name, last name and user name, by id. Cheap enough to read on every view, so a rendered
    board can be checked against the organisation as it is now."""
    return list(Department.objects.restrict(user, "accountability").order_by("pk").values_list(
        *SHOWN))


def shown_of(departments: list[Department]) -> list[tuple]:
    """``departments_shown`` of departments already read (with their heads)."""
    return [(d.pk, d.code, d.name, *((d.head.first_name, d.head.last_name, d.head.username)
                                     if d.head else (None, None, None)))
            for d in sorted(departments, key=lambda d: d.pk)]


def department_in_scope(user, code: str) -> Department:
    """The department with ``code`` if the user may see its accountability, else 404."""
    department = departments_in_scope(user).filter(code=code).first()
    if department is None:
        raise Http404(_("No such department."))
    return department


def within(queryset: QuerySet, field: str, ids, *, everything: bool = False) -> QuerySet:
    """``queryset`` limited to the departments ``ids`` through ``field`` — or left whole when
    the reader sees every department, so the planner is not handed a list of every id (which
    turns index scans into sequential ones on large tables)."""
    return queryset if everything else queryset.filter(**{f"{field}__in": ids})
