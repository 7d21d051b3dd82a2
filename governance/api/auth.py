"""The API's token authentication: ``Authorization: Token <secret>`` (or ``Bearer``)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from governance.tokens import token_find, token_used
from kit.i18n import saved_language


class TokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as `Authorization: Token <secret>`."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token: the secret must be ASCII text.")) from None
        user, token = self.authenticate_credentials(secret)
        # A token's person is known only now, after the middleware chose the language from
        # the browser's Accept-Language: their saved language wins here, as on the pages.
        language = saved_language(user)
        if language:
            translation.activate(language)
            request._request.LANGUAGE_CODE = language
        return user, token

    def authenticate_credentials(self, secret: str):
        token = token_find(secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                _("Invalid token: unknown, expired or revoked. Create a new one on your "
                  "API tokens page."))
        token_used(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for it (as DRF's own token scheme was documented)."""

    target_class = "governance.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'Token-based authentication with required prefix "Token"'}
