"""Changing who answers for what: a department's head (``department_set_head``), a person
who leaves (``user_deactivate``), a person who moves to another department
(``user_move_department``).

Work accountable to a person lives in the layers above (steps, delay risks); the core does
not know it. Each change here is saved and audited, then announced with a domain event
(``governance.signals``) that those layers act on inside the same transaction, so the
organisation and what it is accountable for never disagree, not even for a moment.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.errors import ValidationFailed
from governance.models import Department, Membership, User
from governance.services.audit import audit_record
from governance.signals import department_head_changed, user_deactivated, user_moved


def _origin(source: IdentitySource | str, provider: str) -> dict:
    """Where a change came from, for its audit event: SRM itself, or a directory by name."""
    data = {"source": str(source)}
    if provider:
        data["provider"] = provider
    return data


@transaction.atomic
def department_set_head(*, actor: User | None, department: Department, head: User,
                        at: datetime | None = None,
                        source: IdentitySource | str = IdentitySource.LOCAL,
                        provider: str = "") -> Department:
    """Make ``head`` the head of ``department`` from ``at`` (default: now).

    The one way a head changes (the admin's department page goes through it; a directory
    sync must too). In the same transaction every open step of the department moves to the
    new head (each audited), its delay accrues against them from ``at`` on, and they are told
    what waits for them (the receivers of ``department_head_changed``). A deputy who becomes
    head stops being their own deputy. ``source`` says who named the head (SRM or a
    directory, ``provider`` naming which): the organisation page shows it.
    """
    at = at or timezone.now()
    department = (Department.objects.select_for_update(of=("self",), no_key=True).select_related("head")
                  .get(pk=department.pk))
    old = department.head
    if old is not None and old.pk == head.pk:
        if department.head_source != source:
            department.head_source = source
            department.save(update_fields=["head_source"])
        return department
    if not head.is_active:
        message = _("%(head)s cannot sign in, so cannot head %(department)s.") % {
            "head": head, "department": department}
        raise ValidationFailed(message, code="head_inactive", field_errors={"head": [message]})
    department.head = head
    department.head_source = source
    fields = ["head", "head_source"]
    if department.deputy_id == head.pk:
        department.deputy = None
        fields.append("deputy")
    department.save(update_fields=fields)
    audit_record(
        actor=actor, verb=AuditVerb.DEPARTMENT_HEAD_CHANGED, target=department,
        from_state=old.username if old else "", to_state=head.username,
        data={"department": department.code, "deputy_cleared": "deputy" in fields,
              "head": head.username, **_origin(source, provider)}, at=at,
    )
    department_head_changed.send(Department, department=department, old_head=old,
                                 new_head=head, actor=actor, at=at)
    return department


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User, at: datetime | None = None,
                    source: IdentitySource | str = IdentitySource.LOCAL,
                    provider: str = "") -> User:
    """``user`` leaves: they can no longer sign in, and in the same transaction whatever was
    accountable to them moves on (the receivers of ``user_deactivated``: each open step to
    their active delegate, else their department's deputy, else the parent department's
    head, each move audited; the work they had taken on goes back to its queue, its head
    told; their delegations end). Refused, with nothing changed, when
    nobody can take over (``no_successor``). The admin's deactivation goes through here."""
    at = at or timezone.now()
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, verb=AuditVerb.USER_DEACTIVATED, target=user,
                 from_state="active", to_state="inactive",
                 data={"username": user.username, **_origin(source, provider)}, at=at)
    user_deactivated.send(User, user=user, actor=actor, at=at)
    return user


@transaction.atomic
def user_move_department(*, actor: User | None, user: User, department: Department | None,
                         at: datetime | None = None,
                         source: IdentitySource | str = IdentitySource.LOCAL,
                         provider: str = "") -> User:
    """``user`` moves to ``department`` (None: no home department). Their requests from now
    on are charged to the new department; what they submitted before stays charged where it
    was. Their memberships of the old department end (member, agent or approver: what they
    did there is no longer theirs to do), they become a member of the new one, and in the
    same transaction the execution steps they had taken on in the old department go back to
    its queue (the receivers of ``user_moved``, each audited). Departments they head or
    deputise are not changed by a move: naming a new head is its own change
    (``department_set_head``), and the organisation page lists such a head as a conflict.
    """
    at = at or timezone.now()
    user = User.objects.select_for_update(of=("self",), no_key=True).select_related("department").get(pk=user.pk)
    old = user.department
    if department is not None:
        department = Department.objects.get(pk=department.pk)
    if (old.pk if old else None) == (department.pk if department else None):
        return user
    if not user.is_active:
        message = _("%(user)s has left and cannot move to another department.") % {"user": user}
        raise ValidationFailed(message, code="user_inactive",
                               field_errors={"department": [message]})
    ended = []
    if old is not None:
        ended = sorted(Membership.objects.filter(user=user, department=old)
                       .values_list("role", flat=True))
        Membership.objects.filter(user=user, department=old).delete()
    user.department = department
    user.save(update_fields=["department"])
    if department is not None:
        Membership.objects.get_or_create(
            user=user, department=department,
            defaults={"role": MembershipRole.MEMBER, "source": source})
    audit_record(
        actor=actor, verb=AuditVerb.USER_MOVED, target=user,
        from_state=old.code if old else "", to_state=department.code if department else "",
        data={"username": user.username, "roles_ended": ended, **_origin(source, provider)},
        at=at,
    )
    user_moved.send(User, user=user, old_department=old, new_department=department,
                    actor=actor, at=at)
    return user
