"""Which language a person reads SRM in: their profile's, else the browser's, else
LANGUAGE_CODE; the switch in the user menu saves it; e-mails follow the recipient's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from governance.choices import AuditVerb
from governance.models import AuditEvent
from kit.i18n import in_language_of

pytestmark = pytest.mark.django_db


def _lang(response) -> str:
    html = response.content.decode()
    start = html.index("<html lang=\"") + len("<html lang=\"")
    return html[start:html.index("\"", start)]


def _client(org, username: str, **headers) -> Client:
    client = Client(**headers)
    client.force_login(getattr(org, username))
    return client


def test_without_a_profile_choice_the_browser_decides(org):
    german = _client(org, "alice", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert _lang(german.get("/portal/")) == "de"
    english = _client(org, "alice", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert _lang(english.get("/portal/")) == "en"


def test_without_either_the_default_language(org, settings):
    assert settings.LANGUAGE_CODE == "en"
    unknown = _client(org, "alice", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert _lang(unknown.get("/portal/")) == "en"
    assert _lang(Client().get("/accounts/login/")) == "en"


def test_the_profile_wins_over_the_browser(org):
    org.alice.language = "de"
    org.alice.save(update_fields=["language"])
    english_browser = _client(org, "alice", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    response = english_browser.get("/portal/")
    assert _lang(response) == "de" and response["Content-Language"] == "de"
    org.alice.language = "en"
    org.alice.save(update_fields=["language"])
    german_browser = _client(org, "alice", HTTP_ACCEPT_LANGUAGE="de")
    assert _lang(german_browser.get("/portal/")) == "en"


def test_the_switch_saves_the_choice_on_the_profile_and_returns_to_the_page(org):
    alice = _client(org, "alice", HTTP_ACCEPT_LANGUAGE="en")
    page = alice.get("/portal/").content.decode()
    assert 'action="/language/"' in page and 'value="de"' in page and "Deutsch" in page

    response = alice.post("/language/", {"language": "de", "next": "/portal/"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    org.alice.refresh_from_db()
    assert org.alice.language == "de"
    event = AuditEvent.objects.get(verb=AuditVerb.USER_LANGUAGE_CHANGED, object_id=str(org.alice.pk))
    assert (event.from_state, event.to_state) == ("", "de")
    # A new browser of hers, one that asks for English, still gets German.
    assert _lang(_client(org, "alice", HTTP_ACCEPT_LANGUAGE="en").get("/portal/")) == "de"

    # Empty: follow the browser again.
    alice.post("/language/", {"language": "", "next": "/portal/"})
    org.alice.refresh_from_db()
    assert org.alice.language == ""
    assert _lang(_client(org, "alice", HTTP_ACCEPT_LANGUAGE="en").get("/portal/")) == "en"


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(org):
    alice = _client(org, "alice")
    assert alice.post("/language/", {"language": "fr"}).status_code == 400
    org.alice.refresh_from_db()
    assert org.alice.language == ""
    assert alice.get("/language/").status_code == 405
    response = alice.post("/language/", {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_switch_needs_the_csrf_token(org):
    alice = Client(enforce_csrf_checks=True)
    alice.force_login(org.alice)
    assert alice.post("/language/", {"language": "de"}).status_code == 403
    org.alice.refresh_from_db()
    assert org.alice.language == ""


def test_signed_out_the_switch_remembers_the_browser_choice(db):
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = anonymous.post("/language/", {"language": "de", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert _lang(anonymous.get("/accounts/login/")) == "de"


def test_mail_is_rendered_in_the_recipients_language(org):
    org.hank.language = "de"
    org.hank.timezone = "America/New_York"
    with translation.override("en"):
        with in_language_of(org.hank) as language:
            assert language == "de" and translation.get_language() == "de"
            assert gettext("This field is required.") == "Dieses Feld ist zwingend erforderlich."
            assert str(timezone.get_current_timezone()) == "America/New_York"
        assert translation.get_language() == "en"
        with in_language_of(org.alice) as language:
            assert language == "en"


def test_the_sign_in_page_offers_the_switch(db):
    page = Client(HTTP_ACCEPT_LANGUAGE="de").get("/accounts/login/").content.decode()
    assert 'action="/language/"' in page and "Anmelden" in page and 'value="en"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "text"), [
    ("de", "Das hat nicht geklappt. Laden Sie die Seite neu und versuchen Sie es noch einmal."),
    ("en", "That did not work. Reload the page and try again."),
])
def test_the_note_of_a_failed_inline_action_comes_in_the_readers_language(org, language, text):
    """The page's script writes this note when an inline action (approve from the inbox, a
    comment) gets no answer it can show; it takes the text the page carries."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(org.alice)
    page = client.get("/portal/").content.decode()
    assert f'data-error-text="{text}"' in page
