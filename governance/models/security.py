from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.choices import LockoutScope, TokenRevokedBecause, TokenStatus
from kit.rules import RestrictedQuerySet


class LoginLockout(models.Model):
    """One sign-in lockout: sign-ins to an account, or from an address, refused until ``until``
    after repeated failures. The failures are counted in the cache every web worker shares
    (``governance.logins``); this row is what administrators see and unlock."""

    scope = models.CharField(max_length=16, choices=LockoutScope.choices, verbose_name=_("scope"))
    # The name typed at the sign-in form (it need not name an account: unknown names are
    # locked too, so a lockout does not tell whether an account exists).
    username = models.CharField(max_length=150, blank=True, verbose_name=_("username"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", verbose_name=_("user"))
    failures = models.PositiveIntegerField(verbose_name=_("failures"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    until = models.DateTimeField(verbose_name=_("until"))
    unlocked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("unlocked at"))
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("unlocked by"))

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


class ApiTokenQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> ApiTokenQuerySet:
        """A person sees and revokes their own tokens only (administrators use the admin)."""
        if action not in {"view", "revoke"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A named API token of one person. Only a keyed hash of its secret is stored (HMAC-SHA256
    with a key derived from ``SECRET_KEY``): the secret is shown once, when it is created, and
    cannot be read back from the database, a backup or the admin (``governance.tokens``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    # The secret's first characters, to tell tokens apart in lists (not enough to use one).
    prefix = models.CharField(max_length=12, verbose_name=_("prefix"))
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_reason = models.CharField(max_length=32, blank=True,
                                      choices=TokenRevokedBecause.choices,
                                      verbose_name=_("revoked reason"))

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        return TokenStatus.ACTIVE if self.expires_at > timezone.now() else TokenStatus.EXPIRED


class IdentityProviderQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> IdentityProviderQuerySet:
        """Identity providers and their provisioning tokens are configured by administrators
        in the admin site; in the app, ops leaders see which exist (the organisation page)."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated or not (user.is_superuser or user.is_ops_leader):
            return self.none()
        return self


class IdentityProvider(models.Model):
    """A company directory that provisions people and departments into SRM (Entra ID, Okta,
    Keycloak, …). SCIM requests authenticate with one of its bearer tokens
    (``ScimToken``); what it writes is audited as coming from it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    objects = IdentityProviderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self) -> str:
        return self.name


class ScimToken(models.Model):
    """A bearer token an identity provider presents to ``/scim/v2/``. Like an API token only
    a keyed hash of its secret is stored (``governance.tokens``), shown once at creation."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE,
                                 related_name="scim_tokens", verbose_name=_("provider"))
    prefix = models.CharField(max_length=12, verbose_name=_("prefix"))
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("provisioning token")
        verbose_name_plural = _("provisioning tokens")

    def __str__(self) -> str:
        return f"{self.provider} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None


class UserSession(AbstractBaseSession):
    """A browser's session (``SESSION_ENGINE`` = ``governance.identity.sessions``): Django's
    session row with the signed-in person's id beside it, so a request reads the session and
    its person in one statement (the person's row is still read on every request: a leaver
    or a changed password ends the session at once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")

    @classmethod
    def get_session_store_class(cls):
        return import_module(settings.SESSION_ENGINE).SessionStore
