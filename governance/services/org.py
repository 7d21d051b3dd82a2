"""Changing who answers for what: a department's head (``department_set_head``), a person
who leaves (``user_deactivate``).

Work accountable to a person lives in the layers above (steps, delay risks); the core does
not know it. Each change here is saved and audited, then announced with a domain event
(``governance.signals``) that those layers act on inside the same transaction, so the
organisation and what it is accountable for never disagree, not even for a moment.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from governance.choices import AuditVerb
from governance.errors import ValidationFailed
from governance.models import Department, User
from governance.services.audit import audit_record
from governance.signals import department_head_changed, user_deactivated


@transaction.atomic
def department_set_head(*, actor: User | None, department: Department, head: User,
                        at: datetime | None = None) -> Department:
    """Make ``head`` the head of ``department`` from ``at`` (default: now).

    The one way a head changes (the admin's department page goes through it; a directory
    sync must too). In the same transaction every open step of the department moves to the
    new head (each audited), its delay accrues against them from ``at`` on, and they are told
    what waits for them (the receivers of ``department_head_changed``). A deputy who becomes
    head stops being their own deputy.
    """
    at = at or timezone.now()
    department = (Department.objects.select_for_update(of=("self",)).select_related("head")
                  .get(pk=department.pk))
    old = department.head
    if old is not None and old.pk == head.pk:
        return department
    if not head.is_active:
        message = f"{head} cannot sign in, so cannot head {department}."
        raise ValidationFailed(message, code="head_inactive", field_errors={"head": [message]})
    department.head = head
    fields = ["head"]
    if department.deputy_id == head.pk:
        department.deputy = None
        fields.append("deputy")
    department.save(update_fields=fields)
    audit_record(
        actor=actor, verb=AuditVerb.DEPARTMENT_HEAD_CHANGED, target=department,
        from_state=old.username if old else "", to_state=head.username,
        data={"department": department.code, "deputy_cleared": "deputy" in fields}, at=at,
    )
    department_head_changed.send(Department, department=department, old_head=old,
                                 new_head=head, actor=actor, at=at)
    return department


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User, at: datetime | None = None) -> User:
    """``user`` leaves: they can no longer sign in, and in the same transaction whatever was
    accountable to them moves on (the receivers of ``user_deactivated``: each open step to
    their active delegate, else their department's deputy, else the parent department's
    head, each move audited; their delegations end). Refused, with nothing changed, when
    nobody can take over (``no_successor``). The admin's deactivation goes through here."""
    at = at or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, verb=AuditVerb.USER_DEACTIVATED, target=user,
                 from_state="active", to_state="inactive", data={"username": user.username},
                 at=at)
    user_deactivated.send(User, user=user, actor=actor, at=at)
    return user
