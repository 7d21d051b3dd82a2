from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def as_user(org):
    """A logged-in test client for a demo person: ``as_user("alice")``."""

    def _client(username: str) -> Client:
        client = Client()
        client.force_login(getattr(org, username))
        return client

    return _client


@pytest.fixture
def htmx():
    return {"HTTP_HX_REQUEST": "true"}
