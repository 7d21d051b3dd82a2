"""API token secrets: how they are made and how one presented is found.

A secret is ``srm_`` and 43 random URL-safe characters (256 bits). The database keeps only
HMAC-SHA256 of it under a key derived from ``SECRET_KEY`` (``salted_hmac``): a copy of the
database alone cannot produce or check a token. A secret is looked up by its digest, computed
with ``SECRET_KEY`` and each of ``SECRET_KEY_FALLBACKS``, so tokens keep working while the
key is rotated.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from governance.models import ApiToken, ScimToken

PREFIX = "srm_"
_SALT = "governance.tokens.ApiToken"
SCIM_PREFIX = "srmscim_"
_SCIM_SALT = "governance.tokens.ScimToken"
# Shown in lists beside the name: the fixed prefix and 4 characters of the secret.
SHOWN = len(PREFIX) + 4


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def new_scim_secret() -> str:
    return SCIM_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str, *, key: str | None = None, salt: str = _SALT) -> str:
    return salted_hmac(salt, secret, secret=key or settings.SECRET_KEY,
                       algorithm="sha256").hexdigest()


def scim_digest(secret: str) -> str:
    return digest(secret, salt=_SCIM_SALT)


def _digests(secret: str, salt: str = _SALT) -> list[str]:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [digest(secret, key=key, salt=salt) for key in keys]


def token_find(secret: str) -> ApiToken | None:
    """The usable token whose secret this is (not revoked, not expired), or None."""
    if not secret or len(secret) > 200:
        return None
    return (ApiToken.objects.usable().select_related("user")
            .filter(digest__in=_digests(secret)).first())


def token_used(token: ApiToken) -> None:
    """Note the time of use, at most once a minute per token (not a write per call)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def scim_token_find(secret: str) -> ScimToken | None:
    """The provisioning token (not revoked) whose secret this is, with its provider, or None."""
    if not secret or len(secret) > 200:
        return None
    return (ScimToken.objects.filter(revoked_at__isnull=True, digest__in=_digests(secret, _SCIM_SALT))
            .select_related("provider").first())


def scim_token_used(token: ScimToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= 60:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
