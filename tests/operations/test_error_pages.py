"""When something fails on our side the answer tells the truth (the change may have been
saved), carries the request id that the logs carry, and is JSON under /api/."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.db import OperationalError

from tests.factories import api_token

pytestmark = pytest.mark.django_db


def test_a_page_that_fails_says_the_change_may_have_been_saved(client, org, caplog):
    client.raise_request_exception = False
    client.force_login(org.alice)
    with mock.patch("srm.views.capabilities", side_effect=RuntimeError("bug")):
        response = client.get("/", HTTP_X_REQUEST_ID="req-123", HTTP_REFERER="http://testserver/portal/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "could not confirm whether your change was saved" in page
    assert "nothing was half-saved" not in page
    assert 'href="http://testserver/portal/"' in page and "req-123" in page
    assert response["X-Request-ID"] == "req-123"


def test_an_api_failure_is_a_json_body_with_the_request_id(client, org, caplog):
    client.raise_request_exception = False
    token = api_token(org.alice)
    with mock.patch("governance.api.views.MeSerializer", side_effect=RuntimeError("bug")), \
            caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    body = response.json()
    assert response.status_code == 500
    assert body["code"] == "server_error" and body["request_id"] == response["X-Request-ID"]
    assert "could not confirm whether your change was saved" in body["message"]
    # the operator finds it in the log by the same id
    assert any(getattr(r, "request_id", "") == body["request_id"] for r in caplog.records)


@pytest.mark.parametrize("path", ["/api/v1/me/", "/portal/"])
def test_an_unreachable_database_is_a_503_with_retry_after(client, org, path):
    client.raise_request_exception = False
    token = api_token(org.alice)
    client.force_login(org.alice)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load",
                    side_effect=OperationalError("connection refused")), \
            mock.patch("governance.api.auth.TokenAuthentication.authenticate_credentials",
                       side_effect=OperationalError("connection refused")):
        response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 503
    assert response["Retry-After"]
    if path.startswith("/api/"):
        assert response.json()["code"] == "unavailable"
    else:
        assert "could not confirm whether your change was saved" in response.content.decode()


def test_a_client_request_id_is_kept_and_a_forged_one_replaced(client):
    assert client.get("/healthz/live", HTTP_X_REQUEST_ID="abc-1")["X-Request-ID"] == "abc-1"
    forged = client.get("/healthz/live", HTTP_X_REQUEST_ID="a b\nFAKE LOG LINE")["X-Request-ID"]
    assert forged != "a b\nFAKE LOG LINE" and len(forged) == 32
