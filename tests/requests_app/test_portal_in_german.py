"""The portal and the requests API speak the reader's language: German pages, form errors and
refusals for a German reader, the same English as before for everyone else."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from requests_app.models import ServiceRequest

pytestmark = pytest.mark.django_db


def _client(user, language: str = "") -> Client:
    client = Client(headers={"Accept-Language": language} if language else {})
    client.force_login(user)
    return client


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_german_profile_reads_the_catalog_and_the_list_in_german(org):
    org.alice.language = "de"
    org.alice.save(update_fields=["language"])
    alice = _client(org.alice, "en-GB")  # the profile wins over the browser
    catalog = _text(alice.get(reverse("portal:catalog")))
    assert "Was brauchen Sie?" in catalog and "What do you need?" not in catalog
    assert "Üblicherweise innerhalb von" in catalog
    mine = _text(alice.get(reverse("portal:my_requests")))
    assert "Meine Anfragen" in mine and "Neue Anfrage" in mine


def test_a_form_error_is_german_for_a_german_reader_and_unchanged_in_english(org):
    answers = {"details": "Für das Team.", "model": "13-inch standard", "estimated_cost": ""}
    alice_de = _client(org.alice, "de-DE,de;q=0.9")
    response = alice_de.post(reverse("portal:submit", args=["laptop"]), answers)
    assert response.status_code == 400
    page = _text(response)
    assert "Einige Angaben müssen korrigiert werden." in page
    assert "Geben Sie die geschätzten Kosten an (0, wenn keine)." in page
    assert "State the estimated cost" not in page
    english = _text(_client(org.alice, "en-GB").post(reverse("portal:submit", args=["laptop"]),
                                                     answers))
    assert "State the estimated cost (0 if none)." in english
    assert "Some answers need attention. They are marked below; what you typed is kept." in english
    assert not ServiceRequest.objects.exists()


def test_a_service_refusal_reaches_the_api_in_german(org, submit):
    request = submit(actor=org.alice)
    refused = _client(org.alice, "de").post(
        f"/api/v1/requests/{request.reference}/comments/", {"body": "Nur intern", "internal": True},
        content_type="application/json")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "internal_not_allowed"  # clients match on the code, never the text
    assert body["message"] == (f"Nur die Abteilungen, die an {request.reference} arbeiten, und die "
                              "Betriebsleitung können interne Notizen schreiben; die anfragende "
                              "Person sieht sie nie.")
    english = _client(org.alice, "en").post(
        f"/api/v1/requests/{request.reference}/comments/", {"body": "Nur intern", "internal": True},
        content_type="application/json").json()
    assert english["message"].startswith(f"Only the departments working on {request.reference}")
    assert not request.comments.exists()


def test_a_german_submission_is_confirmed_in_german_with_the_next_decider(org):
    response = _client(org.alice, "de-DE").post(reverse("portal:submit", args=["laptop"]), {
        "details": "Für das Team.", "model": "13-inch standard", "estimated_cost": "1.200,00",
    }, follow=True)
    request = ServiceRequest.objects.get()
    page = _text(response)
    assert (f"{request.reference} mit geschätzten Kosten von 1.200,00 EUR eingereicht. "
            f"Als Nächstes entscheidet {request.current_step.accountable_head}") in page
    assert "Verlauf" in page and "Prüfprotokoll" in page
