"""A refused token is refused in the client's language. The person behind a bad token is not
known, so the ``Accept-Language`` header decides (English when it asks for nothing we speak);
the body's ``code`` stays the same in every language, for clients that branch on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import ApiToken
from tests.factories import api_token

pytestmark = pytest.mark.postgres

SEND_AS = {
    "en": "Send the token as `Authorization: Token <secret>`.",
    "de": "Senden Sie das Token als `Authorization: Token <secret>`.",
}
INVALID = {
    "en": "Invalid token: unknown, expired or revoked. Create a new one on your API tokens page.",
    "de": "Ungültiges Token: unbekannt, abgelaufen oder widerrufen. Erstellen Sie ein neues "
          "auf Ihrer Seite „API-Tokens“.",
}
UNREADABLE = {"en": "Invalid token: the secret must be ASCII text.",
              "de": "Ungültiges Token: Das Geheimnis muss ASCII-Text sein."}
NONE_SENT = {"en": "Authentication credentials were not provided.",
             "de": "Anmeldedaten fehlen."}


def _me(authorization: str | bytes | None, language: str | None):
    headers = {"Accept-Language": language} if language else {}
    client = APIClient(headers=headers)
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get("/api/v1/me/")


def _refused(response, code: str, message: str, language: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert response.json()["message"] == message
    assert response["Content-Language"] == language
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("asked", "language"), [("de-DE,de;q=0.9", "de"), ("de", "de"),
                                                 (None, "en"), ("fr", "en")])
def test_a_token_without_a_secret_is_refused_in_the_browsers_language(db, asked, language):
    _refused(_me("Token", asked), "authentication_failed", SEND_AS[language], language)
    _refused(_me("Token one two", asked), "authentication_failed", SEND_AS[language], language)


@pytest.mark.parametrize(("asked", "language"), [("de", "de"), (None, "en")])
def test_a_secret_that_is_not_text_is_refused_in_the_browsers_language(db, asked, language):
    _refused(_me(b"Token \xff\xfe", asked), "authentication_failed", UNREADABLE[language],
             language)


@pytest.mark.parametrize(("asked", "language"), [("de", "de"), (None, "en")])
def test_an_unknown_token_is_refused_in_the_browsers_language(db, asked, language):
    _refused(_me("Token not-a-token", asked), "authentication_failed", INVALID[language],
             language)


@pytest.mark.parametrize(("asked", "language"), [("de", "de"), (None, "en")])
def test_a_revoked_or_expired_token_is_refused_in_the_browsers_language(org, asked, language):
    # Alice reads German on the pages, but a dead token does not say who sends it.
    org.alice.language = "en" if language == "de" else "de"
    org.alice.save(update_fields=["language"])
    revoked, expired = api_token(org.alice, name="revoked"), api_token(org.alice, name="expired")
    ApiToken.objects.filter(name="revoked").update(revoked_at=timezone.now())
    ApiToken.objects.filter(name="expired").update(
        expires_at=timezone.now() - timedelta(seconds=1))
    for secret in (revoked, expired):
        _refused(_me(f"Token {secret}", asked), "authentication_failed", INVALID[language],
                 language)


@pytest.mark.parametrize(("asked", "language"), [("de", "de"), (None, "en")])
def test_no_token_at_all_is_refused_in_the_browsers_language(db, asked, language):
    _refused(_me(None, asked), "not_authenticated", NONE_SENT[language], language)
