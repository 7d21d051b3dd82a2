"""Governance pages and refusals in the reader's language."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from governance import limits
from governance.errors import ValidationFailed
from governance.models import ApiToken
from kit.errors import ErrorCode

pytestmark = pytest.mark.django_db


def test_the_token_page_and_its_form_errors_are_german_for_a_german_profile(org):
    org.alice.language = "de"
    org.alice.save(update_fields=["language"])
    client = Client()
    client.force_login(org.alice)
    page = html.unescape(client.get(reverse("tokens")).content.decode())
    assert "API-Tokens" in page and "Token anlegen" in page and "Create a token" not in page
    refused = client.post(reverse("tokens"), {"name": "", "days": "0"})
    assert refused.status_code == 400
    text = html.unescape(refused.content.decode())
    assert "Gültig für (Tage)" in text and "Dieses Feld ist zwingend erforderlich." in text
    assert not ApiToken.objects.exists()


def test_a_length_refusal_names_the_field_and_groups_the_limit_in_the_readers_language():
    too_long = "x" * (limits.CONVERSATION_TEXT + 1)
    for language, expected in [
        ("en", "Keep the comment under 10,000 characters (it has 10,001)."),
        ("de", "Kommentar: höchstens 10.000 Zeichen (derzeit 10.001)."),
    ]:
        with translation.override(language), pytest.raises(ValidationFailed) as refused:
            limits.checked_text(too_long, limit=limits.CONVERSATION_TEXT, field="body",
                                what=gettext_lazy("comment"))
        assert refused.value.code == ErrorCode.TEXT_TOO_LONG
        assert refused.value.message == expected
