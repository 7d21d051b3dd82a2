"""A provisioning token of an identity provider, and a SCIM client calling ``/scim/v2/``
through Django's WSGI application in the test's own transaction."""

from __future__ import annotations

import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from governance.models import IdentityProvider
from governance.services.tokens import scim_token_create


@pytest.fixture
def scim_secret(db):
    provider = IdentityProvider.objects.create(name="Entra ID")
    _token, secret = scim_token_create(provider=provider, actor=None)
    return secret


@pytest.fixture
def scim(client, scim_secret):
    """Send a SCIM request as the identity provider: ``scim("PATCH", "Users/3", body)``."""

    def call(method: str, path: str, body=None, **headers):
        kwargs = {"content_type": "application/scim+json",
                  "HTTP_AUTHORIZATION": f"Bearer {scim_secret}"}
        kwargs.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
        data = json.dumps(body) if body is not None else None
        return getattr(client, method.lower())(f"/scim/v2/{path}", data=data, **kwargs)

    return call


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, keeping the test's database connection open between
    requests (as Django's test client does) so each request sees the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
