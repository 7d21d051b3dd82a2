"""API token secrets: how they are made and how one presented is found.

A secret is ``srm_`` and 43 random URL-safe characters (256 bits). The database keeps only
HMAC-SHA256 of it under a key derived from ``SECRET_KEY`` (``salted_hmac``): a copy of the
database alone cannot produce or check a token. A secret is looked up by its digest, computed
with ``SECRET_KEY`` and each of ``SECRET_KEY_FALLBACKS``, so tokens keep working while the
key is rotated.

Every API call looks its token up, with its person, in one statement written once per process
(``_lookup``): building the same join through the ORM cost several times what running it did.
"""

from __future__ import annotations

import functools
import secrets

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.crypto import salted_hmac

from governance.models import ApiToken, ScimToken, User
from kit.reads import instance_from, select_columns, width

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
    """The usable token whose secret this is (not revoked, not expired), with its person, or
    None: ``ApiToken.objects.usable().select_related("user").filter(digest__in=…).first()``."""
    if not secret or len(secret) > 200:
        return None
    digests = _digests(secret)
    with connection.cursor() as cursor:
        cursor.execute(_lookup(connection.vendor, len(digests)), [*digests, timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None
    split = width(ApiToken)
    token = instance_from(ApiToken, row[:split])
    ApiToken.user.field.set_cached_value(token, instance_from(User, row[split:]))
    return token


@functools.cache
def _lookup(vendor: str, digests: int) -> str:
    """The statement that finds a usable token and its person by one of ``digests`` digests
    (one per key: ``SECRET_KEY`` and its fallbacks), read back with ``kit.reads``."""
    quote = connection.ops.quote_name
    return (f"SELECT {select_columns(ApiToken, 't')}, {select_columns(User, 'p')} "
            f"FROM {quote(ApiToken._meta.db_table)} t "
            f"JOIN {quote(User._meta.db_table)} p ON p.{quote(User._meta.pk.column)} = t."
            f"{quote(ApiToken.user.field.column)} "
            f"WHERE t.{quote('digest')} IN ({', '.join(['%s'] * digests)}) "
            f"AND t.{quote('revoked_at')} IS NULL AND t.{quote('expires_at')} > %s "
            f"ORDER BY t.{quote(ApiToken._meta.pk.column)} LIMIT 1")


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
