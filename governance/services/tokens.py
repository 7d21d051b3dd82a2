"""API tokens: created (the secret returned once), revoked one by one or all of a person's."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import tokens
from governance.choices import AuditVerb, TokenRevokedBecause
from governance.errors import ValidationFailed
from governance.models import ApiToken, IdentityProvider, ScimToken, User
from governance.services.audit import audit_record


@transaction.atomic
def api_token_create(*, user: User, name: str, actor: User | None,
                     days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid ``days`` (``SRM_API_TOKEN_DAYS`` by default, at most
    ``SRM_API_TOKEN_MAX_DAYS``). Returns the token and its secret: the only time the secret
    exists outside the caller's hands."""
    name = (name or "").strip()
    days = settings.SRM_API_TOKEN_DAYS if days is None else days
    errors = {}
    if not name:
        errors["name"] = [_("Give the token a name that says where it is used.")]
    elif len(name) > 100:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": 100}]
    if not 1 <= days <= settings.SRM_API_TOKEN_MAX_DAYS:
        errors["days"] = [_("Between 1 and %(days)s days.") % {"days": settings.SRM_API_TOKEN_MAX_DAYS}]
    if not user.is_active:
        errors["__all__"] = [_("%(username)s is inactive and cannot use the API.")
                             % {"username": user.username}]
    if errors:
        raise ValidationFailed(_("The token was not created."), field_errors=errors)
    secret, now = tokens.new_secret(), timezone.now()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:tokens.SHOWN], digest=tokens.digest(secret),
        created_at=now, expires_at=now + timedelta(days=days))
    audit_record(actor=actor, verb=AuditVerb.TOKEN_CREATED, target=token,
                 data={"user": user.username, "name": name,
                       "expires_at": token.expires_at.isoformat()})
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None,
                     because: TokenRevokedBecause) -> bool:
    """Stop ``token`` working now. False when it was revoked already."""
    now = timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=because)
    if not changed:
        return False
    token.revoked_at, token.revoked_reason = now, because
    audit_record(actor=actor, verb=AuditVerb.TOKEN_REVOKED, target=token,
                 data={"user": token.user.username, "name": token.name, "because": because})
    return True


@transaction.atomic
def api_tokens_revoke_all(*, user: User, actor: User | None,
                          because: TokenRevokedBecause) -> int:
    """Revoke every token of ``user`` still in force (a password change, a deactivation)."""
    revoked = 0
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True):
        revoked += api_token_revoke(token=token, actor=actor, because=because)
    return revoked


@transaction.atomic
def scim_token_create(*, provider: IdentityProvider, actor: User | None) -> tuple[ScimToken, str]:
    """A new bearer token for ``provider`` to call ``/scim/v2/`` with. Returns the token and
    its secret, which exists nowhere else afterwards (only its keyed hash is stored)."""
    secret = tokens.new_scim_secret()
    token = ScimToken.objects.create(provider=provider, prefix=secret[:len(tokens.SCIM_PREFIX) + 4],
                                     digest=tokens.scim_digest(secret))
    audit_record(actor=actor, verb=AuditVerb.SCIM_TOKEN_CREATED, target=token,
                 data={"provider": provider.name})
    return token, secret


@transaction.atomic
def scim_token_revoke(*, token: ScimToken, actor: User | None) -> bool:
    """Stop ``token`` working now. False when it was revoked already."""
    now = timezone.now()
    if not ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        return False
    token.revoked_at = now
    audit_record(actor=actor, verb=AuditVerb.SCIM_TOKEN_REVOKED, target=token,
                 data={"provider": token.provider.name})
    return True
