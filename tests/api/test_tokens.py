from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token


def _token(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_create_api_token_prints_the_same_token_every_time(org, client):
    first = _token("alice")
    assert first == _token("alice") == Token.objects.get(user=org.alice).key
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {first}")
    assert response.json()["username"] == "alice"


def test_rotating_replaces_the_old_token(org, client):
    old = _token("alice")
    new = _token("alice", "--rotate")
    assert new != old
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401


def test_unknown_user_is_a_clear_error(org):
    with pytest.raises(CommandError, match="No user called “nobody”"):
        _token("nobody")


def test_tokens_are_managed_in_the_admin(org, client):
    _token("alice")
    client.force_login(org.admin)
    page = client.get("/admin/authtoken/tokenproxy/")
    assert page.status_code == 200
    assert "Alice Adams" in page.content.decode()


def test_session_users_can_read_the_api(org, client):
    client.force_login(org.bob)
    assert client.get("/api/v1/me/").json()["username"] == "bob"
