"""Organisation changes from a file (``manage.py org_changes``): new heads, people who move,
leavers — read, checked, then applied together in one transaction through the organisation's
services, or previewed (``governance.services.preview``) and undone.

The file is CSV (a header row) or JSON (a list of objects), with the same fields:

``action``
    ``head`` (``person`` becomes head of ``department``), ``move`` (``person``'s home
    department becomes ``department``) or ``leave`` (``person`` leaves).
``person``
    a user name.
``department``
    a department code (for ``head`` and ``move``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from governance.errors import ValidationFailed
from governance.models import Department, User
from governance.services.org import department_set_head, user_deactivate, user_move_department

ACTIONS = ("head", "move", "leave")


@dataclass(frozen=True)
class OrgChange:
    line: int
    action: str
    person: User
    department: Department | None


def _rows(text: str, suffix: str) -> list[dict]:
    if suffix == ".json" or text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(_("The file is not JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValidationFailed(_("A JSON file holds a list of objects."))
        return rows
    return list(csv.DictReader(io.StringIO(text)))


def org_changes_read(path: Path) -> list[OrgChange]:
    """The changes ``path`` asks for, each checked (every problem named with its line)."""
    rows = _rows(path.read_text(encoding="utf-8-sig"), path.suffix.lower())
    people = {u.username.lower(): u for u in User.objects.filter(
        username__in=[str(r.get("person") or "").strip() for r in rows])}
    departments = {d.code.lower(): d for d in Department.objects.all()}
    changes, problems = [], []
    for number, row in enumerate(rows, start=2 if path.suffix.lower() != ".json" else 1):
        action = str(row.get("action") or "").strip().lower()
        person = people.get(str(row.get("person") or "").strip().lower())
        code = str(row.get("department") or "").strip()
        department = departments.get(code.lower()) if code else None
        if action not in ACTIONS:
            problems.append(_("line %(n)s: the action is head, move or leave, not “%(a)s”.")
                            % {"n": number, "a": action})
        elif person is None:
            problems.append(_("line %(n)s: nobody has the user name “%(p)s”.")
                            % {"n": number, "p": row.get("person")})
        elif action in ("head", "move") and department is None:
            problems.append(_("line %(n)s: no department has the code “%(c)s”.")
                            % {"n": number, "c": code})
        else:
            changes.append(OrgChange(line=number, action=action, person=person,
                                     department=department))
    if problems:
        raise ValidationFailed(" ".join(problems), code="invalid")
    if not changes:
        raise ValidationFailed(_("The file asks for no change."), code="invalid")
    return changes


@transaction.atomic
def org_changes_apply(*, actor: User | None, changes: list[OrgChange]) -> None:
    """Apply ``changes`` in order, all or none: a change the rules refuse (a leaver nobody can
    stand in for) undoes the others too."""
    for change in changes:
        try:
            if change.action == "head":
                department_set_head(actor=actor, department=change.department, head=change.person)
            elif change.action == "move":
                user_move_department(actor=actor, user=change.person,
                                     department=change.department)
            else:
                user_deactivate(actor=actor, user=change.person)
        except ValidationFailed as exc:
            raise ValidationFailed(_("line %(n)s: %(message)s")
                                   % {"n": change.line, "message": exc.message},
                                   code=exc.code) from exc
