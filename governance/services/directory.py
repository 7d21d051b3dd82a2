"""The company's directory writes the organisation: people, departments, their heads, deputies
and members, as provisioning (SCIM) or an organisation-change file sends them.

Each write here says what the directory holds now; what differs from SRM changes through the
organisation's own services (``governance.services.org``), so a new head takes over the open
steps, a leaver's approvals move on and a person who moves gives back their old department's
work — in the caller's transaction, each change audited as coming from the directory
(``source``, ``provider``). Facts the directory does not send (``UNSET``) stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.errors import Conflict, ValidationFailed
from governance.models import Department, Membership, User
from governance.services.audit import audit_record
from governance.services.org import department_set_head, user_deactivate, user_move_department


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass
class PersonFacts:
    username: str
    external_id: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    active: bool = True
    # The home department; UNSET: the directory does not say (or names one SRM does not
    # know: kept as sent, the department stays).
    department: Department | None = UNSET
    # What SRM keeps as the directory sent it (``User.directory_attributes``): ``emails``
    # (every address) and ``enterprise`` (the enterprise extension); UNSET: not sent.
    directory_attributes: dict = field(default_factory=lambda: UNSET)


@dataclass
class DepartmentFacts:
    name: str
    external_id: str = ""
    code: str = ""
    cost_centre: Any = UNSET
    parent: Department | None = UNSET
    # A head is replaced by the directory, never cleared (a department keeps one).
    head_user: User | None = UNSET
    deputy: User | None = UNSET
    # The ids of every member; UNSET: the directory does not say.
    members: set[int] = field(default_factory=lambda: UNSET)


def _origin(provider: str) -> dict:
    return {"source": IdentitySource.SCIM.value, "provider": provider}


def _invalid(message: str, field_name: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, code=code, field_errors={field_name: [message]})


def _check_person(facts: PersonFacts, user: User | None) -> None:
    username = (facts.username or "").strip()
    if not username or len(username) > 150:
        raise _invalid(_("A person needs a userName of 1 to 150 characters."), "userName")
    taken = User.objects.filter(username__iexact=username)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise Conflict(_("Another person already has the userName “%(name)s”.")
                       % {"name": username}, code="directory_conflict")
    if facts.external_id:
        clash = User.objects.filter(source=IdentitySource.SCIM, external_id=facts.external_id)
        if user is not None:
            clash = clash.exclude(pk=user.pk)
        if clash.exists():
            raise Conflict(_("Another person already has the externalId “%(id)s”.")
                           % {"id": facts.external_id}, code="directory_conflict")
    if len(facts.external_id) > 255:
        raise _invalid(_("An externalId has at most 255 characters."), "externalId")
    if len(facts.first_name) > 150 or len(facts.last_name) > 150 or len(facts.email) > 254:
        raise _invalid(_("A name has at most 150 characters and an e-mail address 254."), "name")


@transaction.atomic
def person_provision(*, provider: str, facts: PersonFacts, user: User | None = None,
                     at: datetime | None = None) -> User:
    """Create (``user`` None) or update a person as the directory holds them. A person the
    directory marks inactive leaves (``user_deactivate``: their approvals move on); one it
    marks active again can sign in again; a new home department is a move
    (``user_move_department``)."""
    at = at or timezone.now()
    if user is not None:
        user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    _check_person(facts, user)
    wanted = {"username": facts.username.strip(), "external_id": facts.external_id,
              "first_name": facts.first_name, "last_name": facts.last_name,
              "email": facts.email, "source": IdentitySource.SCIM}
    sent = facts.directory_attributes
    before = (user.directory_attributes or {}) if user is not None else {}
    # What the directory sent that SRM keeps as it came (every e-mail address, the
    # enterprise extension): named in the same audit event as the fields.
    kept = sorted(k for k in ("emails", "enterprise")
                  if sent is not UNSET and sent.get(k) != before.get(k))
    extra = {"kept_as_sent": kept} if kept else {}
    if sent is not UNSET and sent.get("department_unknown"):
        extra["department_unknown"] = sent["department_unknown"]
    if user is None:
        user = User(**wanted, is_active=True)
        user.set_unusable_password()
        user.save()
        changed = sorted(k for k, v in wanted.items() if v and k != "source")
        audit_record(actor=None, verb=AuditVerb.USER_PROVISIONED, target=user,
                     to_state="created", at=at,
                     data={"username": user.username, "fields": changed, **extra,
                           **_origin(provider)})
    else:
        changed = sorted(k for k, v in wanted.items() if getattr(user, k) != v)
        if changed:
            for name in changed:
                setattr(user, name, wanted[name])
            user.save(update_fields=changed)
        if changed or kept:
            audit_record(actor=None, verb=AuditVerb.USER_PROVISIONED, target=user,
                         to_state="updated", at=at,
                         data={"username": user.username, "fields": changed, **extra,
                               **_origin(provider)})
    if facts.department is not UNSET and user.department_id != (
            facts.department.pk if facts.department else None):
        if not user.is_active and not facts.active:
            pass  # a leaver's home department stays as it was when they left
        else:
            if not user.is_active:
                user = user_reactivate(provider=provider, user=user, at=at)
            user = user_move_department(actor=None, user=user, department=facts.department,
                                        at=at, source=IdentitySource.SCIM, provider=provider)
    if facts.active and not user.is_active:
        user = user_reactivate(provider=provider, user=user, at=at)
    elif not facts.active and user.is_active:
        user = user_deactivate(actor=None, user=user, at=at, source=IdentitySource.SCIM,
                               provider=provider)
    if facts.directory_attributes is not UNSET:
        _keep_as_sent(user=user, sent=facts.directory_attributes)
    return user


def _keep_as_sent(*, user: User, sent: dict) -> None:
    """Keep what the directory sent as it sent it, with the home department it left the
    person in (``department_id``: after a later move in SRM the SCIM answer names the new
    department instead of the one sent)."""
    kept = {k: v for k, v in sent.items() if k in {"emails", "enterprise"}}
    kept["department_id"] = user.department_id
    if kept != (user.directory_attributes or {}):
        User.objects.filter(pk=user.pk).update(directory_attributes=kept)
        user.directory_attributes = kept


@transaction.atomic
def user_reactivate(*, provider: str, user: User, at: datetime | None = None) -> User:
    """The directory brings back a person who had left: they can sign in again (through the
    directory; their old delegations and approvals stay where they went)."""
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(actor=None, verb=AuditVerb.USER_REACTIVATED, target=user,
                 from_state="inactive", to_state="active", at=at,
                 data={"username": user.username, **_origin(provider)})
    return user


def _new_code(name: str) -> str:
    base = re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:30] or "DEPT"
    code, n = base, 1
    while Department.objects.filter(code__iexact=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _check_department(facts: DepartmentFacts, department: Department | None) -> None:
    name = (facts.name or "").strip()
    if not name or len(name) > 200:
        raise _invalid(_("A department needs a displayName of 1 to 200 characters."),
                       "displayName")
    if facts.code:
        if len(facts.code) > 40:
            raise _invalid(_("A department code has at most 40 characters."), "code")
        taken = Department.objects.filter(code__iexact=facts.code)
        if department is not None:
            taken = taken.exclude(pk=department.pk)
        if taken.exists():
            raise Conflict(_("Another department already has the code “%(code)s”.")
                           % {"code": facts.code}, code="directory_conflict")
    if facts.external_id:
        clash = Department.objects.filter(source=IdentitySource.SCIM,
                                          external_id=facts.external_id)
        if department is not None:
            clash = clash.exclude(pk=department.pk)
        if clash.exists():
            raise Conflict(_("Another department already has the externalId “%(id)s”.")
                           % {"id": facts.external_id}, code="directory_conflict")
    if facts.cost_centre is not UNSET and len(facts.cost_centre or "") > 40:
        raise _invalid(_("A cost centre has at most 40 characters."), "costCentre")
    if facts.parent and department is not None:
        above, seen = facts.parent, set()
        while above is not None and above.pk not in seen:
            if above.pk == department.pk:
                raise _invalid(_("A department cannot sit below itself."), "parent")
            seen.add(above.pk)
            above = above.parent
    for who, label in ((facts.head_user, "head"), (facts.deputy, "deputy")):
        if who and not who.is_active:
            raise _invalid(_("%(person)s has left and cannot be %(role)s of a department.")
                           % {"person": who, "role": label}, label, code="head_inactive")
    head = facts.head_user if facts.head_user is not UNSET else (department.head if department else None)
    if facts.deputy and head is not None and facts.deputy.pk == head.pk:
        raise _invalid(_("The deputy must be someone other than the head."), "deputy")


@transaction.atomic
def department_provision(*, provider: str, facts: DepartmentFacts,
                         department: Department | None = None,
                         at: datetime | None = None) -> Department:
    """Create (``department`` None) or update a department as the directory holds it: its
    name, code, cost centre and parent; a new head through ``department_set_head`` (open
    steps move to them); its deputy; its members (each added or removed membership
    audited; a new member without a home department gets this one)."""
    at = at or timezone.now()
    if department is not None:
        department = Department.objects.select_for_update(of=("self",), no_key=True).get(pk=department.pk)
    _check_department(facts, department)
    wanted: dict[str, Any] = {"name": facts.name.strip(), "external_id": facts.external_id,
                              "source": IdentitySource.SCIM}
    if facts.code:
        wanted["code"] = facts.code
    if facts.cost_centre is not UNSET:
        wanted["cost_centre"] = facts.cost_centre or ""
    if facts.parent is not UNSET:
        wanted["parent"] = facts.parent
    if department is None:
        wanted.setdefault("code", _new_code(wanted["name"]))
        department = Department.objects.create(**wanted)
        changed = sorted(k for k, v in wanted.items() if v and k != "source")
        audit_record(actor=None, verb=AuditVerb.DEPARTMENT_PROVISIONED, target=department,
                     to_state="created", at=at,
                     data={"department": department.code, "fields": changed,
                           **_origin(provider)})
    else:
        changed = sorted(k for k, v in wanted.items() if getattr(department, k) != v)
        if changed:
            for name in changed:
                setattr(department, name, wanted[name])
            department.save(update_fields=changed)
            audit_record(actor=None, verb=AuditVerb.DEPARTMENT_PROVISIONED, target=department,
                         to_state="updated", at=at,
                         data={"department": department.code, "fields": changed,
                               **_origin(provider)})
    if facts.head_user:
        department = department_set_head(actor=None, department=department, head=facts.head_user,
                                         at=at, source=IdentitySource.SCIM, provider=provider)
    if facts.deputy is not UNSET:
        department = department_set_deputy(provider=provider, department=department,
                                           deputy=facts.deputy, at=at)
    if facts.members is not UNSET:
        department_set_members(provider=provider, department=department,
                               user_ids=facts.members, at=at)
    return department


@transaction.atomic
def department_set_deputy(*, provider: str, department: Department, deputy: User | None,
                          at: datetime | None = None) -> Department:
    """Name (or, with None, clear) the department's deputy, as the directory holds it."""
    department = Department.objects.select_for_update(of=("self",), no_key=True).select_related(
        "deputy").get(pk=department.pk)
    if department.deputy_id == (deputy.pk if deputy else None):
        return department
    if deputy is not None and deputy.pk == department.head_id:
        raise _invalid(_("The deputy must be someone other than the head."), "deputy")
    old = department.deputy
    department.deputy = deputy
    department.save(update_fields=["deputy"])
    audit_record(actor=None, verb=AuditVerb.DEPARTMENT_DEPUTY_CHANGED, target=department,
                 from_state=old.username if old else "",
                 to_state=deputy.username if deputy else "", at=at,
                 data={"department": department.code, **_origin(provider)})
    return department


@transaction.atomic
def department_set_members(*, provider: str, department: Department, user_ids: set[int],
                           at: datetime | None = None) -> tuple[list[User], list[User]]:
    """Make ``user_ids`` the members of ``department`` (any role); returns who was added and
    who removed. A member removed loses their role there (agent, approver) with it."""
    at = at or timezone.now()
    found = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}
    missing = set(user_ids) - set(found)
    if missing:
        raise _invalid(_("No person with the id %(ids)s.")
                       % {"ids": ", ".join(sorted(map(str, missing)))}, "members",
                       code="unknown_person")
    current = {m.user_id: m for m in Membership.objects.select_related("user")
               .filter(department=department)}
    added = [found[pk] for pk in sorted(set(found) - set(current))]
    removed = [current[pk] for pk in sorted(set(current) - set(found))]
    for membership in removed:
        membership.delete()
        audit_record(actor=None, verb=AuditVerb.MEMBERSHIP_REMOVED, target=department,
                     from_state=membership.user.username, at=at,
                     data={"department": department.code, "username": membership.user.username,
                           "role": membership.role, **_origin(provider)})
    for user in added:
        Membership.objects.create(user=user, department=department, role=MembershipRole.MEMBER,
                                  source=IdentitySource.SCIM)
        audit_record(actor=None, verb=AuditVerb.MEMBERSHIP_ADDED, target=department,
                     to_state=user.username, at=at,
                     data={"department": department.code, "username": user.username,
                           **_origin(provider)})
        if user.department_id is None and user.is_active:
            user_move_department(actor=None, user=user, department=department, at=at,
                                 source=IdentitySource.SCIM, provider=provider)
    return added, [m.user for m in removed]


def department_for_name(value: str, *, unknown_ok: bool = False) -> Department | None:
    """The department the enterprise extension's ``department`` names: by code, else by
    name (case-insensitive). One SRM does not know is refused, or with ``unknown_ok``
    answered with None."""
    value = (value or "").strip()
    matches = list(Department.objects.filter(Q(code__iexact=value) | Q(name__iexact=value))[:3])
    by_code = [d for d in matches if d.code.lower() == value.lower()]
    if by_code:
        return by_code[0]
    if len(matches) == 1:
        return matches[0]
    if not matches and unknown_ok:
        return None
    if not matches:
        raise _invalid(_("No department has the code or name “%(value)s”: provision it as a "
                         "group first.") % {"value": value}, "department",
                       code="unknown_department")
    raise _invalid(_("Several departments are called “%(value)s”: send the code.")
                   % {"value": value}, "department", code="unknown_department")
