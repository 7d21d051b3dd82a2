"""Deciding in German: the refusals of the approval services reach a German reader in German
over the API and on the page; English readers read the same English as before."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from approvals.choices import StepState
from tests.factories import api_token

pytestmark = pytest.mark.django_db


def _client(user, language: str = "") -> Client:
    client = Client(headers={"Accept-Language": language} if language else {})
    client.force_login(user)
    return client


def test_a_refusal_over_the_api_is_german_with_accept_language_de(org, submit):
    request = submit(actor=org.alice)
    step = request.current_step
    refused = _client(org.alice, "de-DE,de;q=0.9").post(
        f"/api/v1/steps/{step.pk}/approve/", {"comment": "Passt"},
        content_type="application/json")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "own_request"  # clients match on the code, never the text
    assert body["message"] == "Sie können nicht über Ihre eigene Anfrage entscheiden."
    english = _client(org.alice, "en").post(f"/api/v1/steps/{step.pk}/approve/",
                                            {"comment": "Fine"}, content_type="application/json")
    assert english.json()["message"] == "You cannot decide on your own request."
    step.refresh_from_db()
    assert step.state == StepState.ACTIVE


def test_a_token_client_reads_its_persons_saved_language_whatever_it_asks_for(org, submit):
    request = submit(actor=org.alice)
    step = request.current_step
    org.alice.language = "de"
    org.alice.save(update_fields=["language"])
    client = APIClient(headers={"Accept-Language": "en"})
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(org.alice)}")
    refused = client.post(f"/api/v1/steps/{step.pk}/approve/", {"comment": "Passt"},
                          format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "own_request"
    assert refused.json()["message"] == "Sie können nicht über Ihre eigene Anfrage entscheiden."
    assert refused.headers["Content-Language"] == "de"


def test_a_german_head_reads_the_form_error_and_the_confirmation_in_german(org, submit):
    request = submit(actor=org.alice)
    step = request.current_step
    head = step.accountable_head
    head.language = "de"
    head.save(update_fields=["language"])
    client = _client(head)
    refused = client.post(reverse("approvals:reject", args=[step.pk]), {"comment": "  "})
    assert refused.status_code == 400
    assert "Begründen Sie die Ablehnung: Die anfragende Person braucht den Grund." in (
        html.unescape(refused.content.decode()))
    done = client.post(reverse("approvals:approve", args=[step.pk]), {"comment": ""},
                       follow=True)
    assert f"{request.reference}: {step.name} genehmigt." in html.unescape(done.content.decode())
    step.refresh_from_db()
    assert step.state == StepState.APPROVED


@pytest.mark.parametrize("view", ["cards", "table"])
def test_the_inbox_speaks_german_to_a_german_head(org, submit, view):
    request = submit(actor=org.alice)
    head = request.current_step.accountable_head
    head.language = "de"
    head.save(update_fields=["language"])
    page = html.unescape(_client(head).get(reverse("approvals:inbox"), {"view": view})
                         .content.decode())
    assert "<h1>Genehmigungen</h1>" in page
    assert "1 wartet auf Ihre Entscheidung" in page
    assert "Genehmigen" in page and ">Approve<" not in page
    assert request.reference in page
