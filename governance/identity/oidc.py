"""Single sign-on with OpenID Connect, through mozilla-django-oidc.

The provider is found from ``OIDC_ISSUER`` alone: its discovery document
(``/.well-known/openid-configuration``) names the endpoints; it is fetched with a timeout and
kept in the cache. The sign-in is the authorization code flow with PKCE (S256), ``state`` and
``nonce``; the ID token's signature (the provider's published keys), issuer, audience,
authorized party, expiry and nonce are all checked before anyone is signed in. Sign-out also
ends the provider's session where it offers ``end_session_endpoint``.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from governance.choices import IdentitySource
from governance.errors import DomainError
from governance.identity.groups import roles_from_groups
from governance.identity.sessions import user_read_with_session
from governance.services.identity import DirectoryPerson, user_sync_from_directory

logger = logging.getLogger(__name__)

# The ID token's times may be off by this much between the provider's clock and ours.
CLOCK_SKEW_SECONDS = 60


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read (down, slow, or not a provider)."""


def configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


def provider_metadata() -> dict:
    """The provider's discovery document, from the cache or fetched (``OIDC_TIMEOUT``)."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    key = f"srm:oidc:discovery:{issuer}"
    metadata = cache.get(key)
    if metadata is not None:
        return metadata
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration",
                                timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{issuer}: {exc}") from exc
    missing = {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"} - set(metadata)
    if missing or str(metadata["issuer"]).rstrip("/") != issuer:
        raise ProviderUnavailable(f"{issuer}: not its discovery document (issuer "
                                  f"{metadata.get('issuer')!r}, missing {sorted(missing)})")
    cache.set(key, metadata, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return metadata


_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


def _setting(attr: str, *args):
    """mozilla-django-oidc's settings, the provider's endpoints from its discovery document."""
    if attr in _ENDPOINTS:
        return provider_metadata().get(_ENDPOINTS[attr])
    return import_from_settings(attr, *args)


def _claim(claims: dict, name: str) -> str | None:
    """The claim ``name`` as text; None when not mapped or not sent (the provider says nothing)."""
    if not name or claims.get(name) is None:
        return None
    value = claims[name]
    return str(value[0] if isinstance(value, list) and value else value)


def person_from_claims(claims: dict) -> DirectoryPerson:
    """What the provider's claims say about a person (settings ``OIDC_CLAIM_*``)."""
    leader = role = None
    groups = claims.get(settings.OIDC_CLAIM_GROUPS) if settings.OIDC_CLAIM_GROUPS else None
    if groups is not None:
        leader, role = roles_from_groups(
            [groups] if isinstance(groups, str) else [str(g) for g in groups],
            ops_leader=settings.OIDC_GROUP_OPS_LEADER, approver=settings.OIDC_GROUP_APPROVER,
            agent=settings.OIDC_GROUP_AGENT)
    return DirectoryPerson(
        source=IdentitySource.OIDC,
        external_id=str(claims.get("sub") or ""),
        username=_claim(claims, settings.OIDC_CLAIM_USERNAME) or "",
        email=_claim(claims, settings.OIDC_CLAIM_EMAIL),
        first_name=_claim(claims, settings.OIDC_CLAIM_FIRST_NAME),
        last_name=_claim(claims, settings.OIDC_CLAIM_LAST_NAME),
        department_code=_claim(claims, settings.OIDC_CLAIM_DEPARTMENT),
        manager=_claim(claims, settings.OIDC_CLAIM_MANAGER),
        ops_leader=leader,
        role=role,
    )


class ProviderBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the checks it leaves to its users (issuer,
    audience, authorized party, required times), the endpoints from discovery — fetched only
    when someone signs in, never to load the user of an existing session — and the person
    created or updated through ``user_sync_from_directory``."""

    get_settings = staticmethod(_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: _setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: _setting("OIDC_OP_USER_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: _setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def get_user(self, user_id):
        # The person the session's own statement read (governance.identity.sessions), if any.
        user = user_read_with_session(user_id) or super().get_user(user_id)
        # A person deactivated (a leaver) is signed out of the session they still have.
        return user if user is not None and user.is_active else None

    def verify_token(self, token, **kwargs):
        """The ID token's payload, or ``SuspiciousOperation`` when its signature, issuer,
        audience, authorized party, times or nonce are not what this sign-in expects."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token unreadable: {exc}") from exc
        algorithm = self.OIDC_RP_SIGN_ALGO
        if header.get("alg") != algorithm:
            raise SuspiciousOperation(f"ID token signed with {header.get('alg')!r}, not "
                                      f"{algorithm!r}")
        key = (self.retrieve_matching_jwk(token) if algorithm[:2] in {"RS", "ES", "PS"}
               else self.OIDC_RP_CLIENT_SECRET)
        try:
            payload = jwt.decode(
                token, key, algorithms=[algorithm], audience=self.OIDC_RP_CLIENT_ID,
                issuer=provider_metadata()["issuer"], leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if (len(audiences) > 1 or "azp" in payload) and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token issued to another party (azp)")
        nonce = kwargs.get("nonce")
        if not nonce or payload.get("nonce") != nonce:
            raise SuspiciousOperation("ID token nonce does not match this sign-in")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the user info endpoint where the provider has
        one (it must describe the same subject)."""
        claims = dict(payload)
        endpoint = self.OIDC_OP_USER_ENDPOINT
        if endpoint and access_token:
            response = requests.get(endpoint, headers={
                "Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            info = response.json()
            if info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("User info describes another subject")
            claims.update(info)
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        return user_sync_from_directory(person=person_from_claims(claims))


def _failed(request, message: str) -> HttpResponseRedirect:
    messages.error(request, message)
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


class SignInStart(OIDCAuthenticationRequestView):
    """``/accounts/oidc/authenticate/``: off to the provider, with PKCE, state and nonce."""

    get_settings = staticmethod(_setting)

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not configured():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = _setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as exc:
            logger.warning("OpenID Connect provider unavailable: %s", exc)
            return _failed(request, _("%(provider)s does not answer: try again in a moment.")
                           % {"provider": settings.OIDC_PROVIDER_NAME})
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SignInCallback(OIDCAuthenticationCallbackView):
    """``/accounts/oidc/callback/``: the provider sends the person back here with a code."""

    get_settings = staticmethod(_setting)

    def get(self, request):
        if not configured():
            raise Http404
        try:
            return super().get(request)
        except DomainError as exc:
            return _failed(request, exc.message)
        except (SuspiciousOperation, ProviderUnavailable, requests.RequestException) as exc:
            logger.warning("OpenID Connect sign-in refused: %s", exc)
            return _failed(request, _("The sign-in with %(provider)s could not be completed. "
                                      "Please try again.")
                           % {"provider": settings.OIDC_PROVIDER_NAME})

    def login_failure(self):
        if self.request.GET.get("error"):
            return _failed(self.request, _("%(provider)s did not sign you in.")
                           % {"provider": settings.OIDC_PROVIDER_NAME})
        return _failed(self.request, _("The sign-in with %(provider)s could not be completed. "
                                       "Please try again.")
                       % {"provider": settings.OIDC_PROVIDER_NAME})


class SignOut(OIDCLogoutView):
    """``/accounts/logout/`` (POST): signs out of SRM, and of the provider where the session
    came from it and the provider offers RP-initiated logout."""

    get_settings = staticmethod(_setting)


def provider_logout_url(request) -> str:
    """Where sign-out goes: the provider's ``end_session_endpoint`` (with the ID token as
    hint and the sign-in page to come back to) when this session came from the provider,
    else the sign-in page."""
    back = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get("oidc_id_token")
    if not (configured() and id_token):
        return back
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except ProviderUnavailable as exc:
        logger.warning("OpenID Connect provider unavailable at sign-out: %s", exc)
        return back
    if not endpoint:
        return back
    query = urlencode({"id_token_hint": id_token, "client_id": settings.OIDC_RP_CLIENT_ID,
                       "post_logout_redirect_uri": request.build_absolute_uri(back)})
    return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"
