"""Sign-in lockouts as records: each one started writes a ``LoginLockout`` row and an audit
event; an administrator's unlock clears the counts in the shared cache and writes one too.
The counting lives in ``governance.logins``,
the sign-in hook that calls both in ``governance.signin``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from governance import logins
from governance.choices import AuditVerb, LockoutScope
from governance.models import LoginLockout, User
from governance.services.audit import audit_record


@transaction.atomic
def login_lockout_start(*, scope: LockoutScope, username: str, ip_address: str | None,
                        failures: int, until: datetime) -> LoginLockout:
    """Record that sign-ins to ``username`` (scope account) or from ``ip_address`` (scope
    address) are refused until ``until``."""
    username = username[:150]
    user = User.objects.filter(username=username).first() if username else None
    lockout = LoginLockout.objects.create(
        scope=scope, username=username if scope == LockoutScope.ACCOUNT else "",
        ip_address=ip_address or None, user=user if scope == LockoutScope.ACCOUNT else None,
        failures=failures, until=until)
    audit_record(actor=None, verb=AuditVerb.LOGIN_LOCKED_OUT, target=lockout,
                 to_state=scope, data={"username": username, "ip_address": ip_address,
                                       "failures": failures, "until": until.isoformat()})
    return lockout


def login_lockout_extend(*, scope: LockoutScope, username: str, ip_address: str | None,
                         failures: int, until: datetime) -> None:
    """A further failure during a lockout: the record in force shows the longer wait."""
    in_force = LoginLockout.objects.filter(scope=scope, unlocked_at__isnull=True)
    if scope == LockoutScope.ACCOUNT:
        in_force = in_force.filter(username=username[:150])
    else:
        in_force = in_force.filter(ip_address=ip_address)
    latest = in_force.order_by("-started_at", "-id").values("pk")[:1]
    LoginLockout.objects.filter(pk__in=latest).update(failures=failures, until=until)


@transaction.atomic
def login_lockout_unlock(*, lockout: LoginLockout, actor: User) -> bool:
    """Lift ``lockout`` (and clear its counts, so the next sign-in starts afresh). False when
    it was lifted already."""
    lockout = LoginLockout.objects.select_for_update().get(pk=lockout.pk)
    if lockout.unlocked_at is not None:
        return False
    now = timezone.now()
    lockout.unlocked_at, lockout.unlocked_by = now, actor
    lockout.save(update_fields=["unlocked_at", "unlocked_by"])
    logins.counts_clear(scope=LockoutScope(lockout.scope), username=lockout.username,
                        ip_address=lockout.ip_address)
    audit_record(actor=actor, verb=AuditVerb.LOGIN_UNLOCKED, target=lockout,
                 from_state=lockout.scope,
                 data={"username": lockout.username, "ip_address": lockout.ip_address})
    return True

