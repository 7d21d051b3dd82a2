from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from governance.choices import LockoutScope


class LoginLockout(models.Model):
    """One sign-in lockout: sign-ins to an account, or from an address, refused until ``until``
    after repeated failures. The failures are counted in the cache every web worker shares
    (``governance.logins``); this row is what administrators see and unlock."""

    scope = models.CharField(max_length=16, choices=LockoutScope.choices)
    # The name typed at the sign-in form (it need not name an account: unknown names are
    # locked too, so a lockout does not tell whether an account exists).
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    failures = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["scope", "username", "-started_at"]),
                   models.Index(fields=["scope", "ip_address", "-started_at"])]

    def __str__(self) -> str:
        who = self.username if self.scope == LockoutScope.ACCOUNT else self.ip_address
        return f"Sign-in lockout of {LockoutScope(self.scope).label.lower()} {who}"

    @property
    def is_in_force(self) -> bool:
        return self.unlocked_at is None and self.until > timezone.now()
