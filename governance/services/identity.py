"""People as the company's identity provider or directory describes them: created or brought
up to date at each sign-in (``user_sync_from_directory``), each change audited.

The source is trusted for the facts it states (name, e-mail, home department, manager, ops
leader and department role where group mapping is configured); a fact it does not state is
left as an administrator set it. A person SRM deactivated (a leaver) stays deactivated; a local
superuser is never taken over by a directory account of the same name (break-glass access
must not depend on the directory).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.errors import NotAllowed, ValidationFailed
from governance.models import Department, Membership, User
from governance.services.audit import audit_record
from governance.services.org import user_move_department

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectoryPerson:
    """What a source says about one person. ``None`` means "the source does not say"."""

    source: IdentitySource
    external_id: str
    username: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    department_code: str | None = None
    # The manager's id at the source (OIDC subject, LDAP DN) or username.
    manager: str | None = None
    ops_leader: bool | None = None
    # The role in the home department (member, agent or approver).
    role: MembershipRole | None = None


def _find(person: DirectoryPerson) -> User | None:
    user = (User.objects.select_for_update(no_key=True)
            .filter(source=person.source, external_id=person.external_id).first())
    if user is None:
        user = User.objects.select_for_update(no_key=True).filter(username__iexact=person.username).first()
    return user


def _manager(person: DirectoryPerson) -> User | None:
    return (User.objects.filter(Q(source=person.source, external_id=person.manager)
                                | Q(username__iexact=person.manager))
            .order_by("-source").first())


@transaction.atomic
def user_sync_from_directory(*, person: DirectoryPerson, at: datetime | None = None) -> User:
    """The SRM user of ``person``: created (without a local password) or updated from what
    the source says. Raises ``NotAllowed`` when the name belongs to a local superuser, or to a
    person of another source who is already linked there."""
    at = at or timezone.now()
    username = (person.username or "").strip()
    if not username or not person.external_id:
        raise ValidationFailed(_("The sign-in names no user name or id."), code="invalid")
    user = _find(person)
    if user is not None and not (user.source == person.source
                                 and user.external_id == person.external_id):
        if user.is_superuser and user.source == IdentitySource.LOCAL:
            raise NotAllowed(_("%(name)s is a local administrator account: sign in with its "
                               "password.") % {"name": user.username}, code="forbidden")
        if user.source == person.source and user.external_id:
            raise NotAllowed(_("%(name)s belongs to another account of the directory.")
                             % {"name": user.username}, code="forbidden")
    if user is not None and not user.is_active:
        return user

    created = user is None
    if created:
        user = User(username=username, source=person.source, external_id=person.external_id)
        user.set_unusable_password()
    # Provisioning (SCIM) keeps the facts of the people it provisioned; a sign-in only signs in.
    authoritative = created or user.source in {person.source, IdentitySource.LOCAL}
    changed: dict[str, list] = {}

    def put(field: str, value) -> None:
        if value is None or getattr(user, field) == value:
            return
        changed[field] = [getattr(user, field) if not created else None, value]
        setattr(user, field, value)

    # Taken over by the directory: from now on only the directory's sign-in counts, so a
    # person it disables cannot come back with an old local password.
    if (authoritative and not created and user.source == IdentitySource.LOCAL
            and user.has_usable_password()):
        user.set_unusable_password()
        changed["password"] = ["local", "directory only"]
    if authoritative:
        put("source", person.source)
        put("external_id", person.external_id)
        if username != user.username and not User.objects.filter(
                username__iexact=username).exclude(pk=user.pk).exists():
            put("username", username)
        put("email", person.email)
        put("first_name", person.first_name)
        put("last_name", person.last_name)
        put("is_ops_leader", person.ops_leader)
        if person.manager is not None:
            manager = _manager(person) if person.manager else None
            if manager is not None and manager.pk != user.pk:
                put("manager_id", manager.pk)
            elif not person.manager:
                put("manager_id", None)
    user.save()
    if created or changed:
        audit_record(actor=None, verb=AuditVerb.USER_PROVISIONED, target=user, at=at,
                     to_state="created" if created else "updated",
                     data={"username": user.username, "source": person.source,
                           "changed": {k: [str(v) if v is not None else None for v in pair]
                                       for k, pair in changed.items()}})
    if authoritative and person.department_code is not None:
        user = _department(user, person, at)
    if authoritative and person.role is not None and user.department_id:
        _role(user, person, at)
    return user


def _department(user: User, person: DirectoryPerson, at: datetime) -> User:
    code = person.department_code.strip()
    department = Department.objects.filter(code__iexact=code).first() if code else None
    if code and department is None:
        logger.warning("%s names department %r, which SRM does not know: %s keeps %s",
                       person.source, code, user.username, user.department)
        return user
    return user_move_department(actor=None, user=user, department=department, at=at,
                                source=person.source)


def _role(user: User, person: DirectoryPerson, at: datetime) -> None:
    membership, _created = Membership.objects.get_or_create(
        user=user, department_id=user.department_id,
        defaults={"role": person.role, "source": person.source})
    if membership.role == person.role:
        return
    old = membership.role
    membership.role = person.role
    membership.save(update_fields=["role"])
    audit_record(actor=None, verb=AuditVerb.USER_PROVISIONED, target=user, at=at,
                 to_state="updated",
                 data={"username": user.username, "source": person.source,
                       "changed": {"role": [old, person.role.value]}})
