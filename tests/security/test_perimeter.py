"""The perimeter: bodies too large are refused early, and X-Forwarded-Proto is believed only
behind a proxy that sets it.

Found by the authorised attack on main: a 30 MiB attachment was read in full before its size
was checked, and `X-Forwarded-Proto: https` was trusted from anyone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client, override_settings
from django.urls import reverse

from governance.models import AuditEvent
from requests_app.models import Attachment, Comment

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 100_000  # bytes: the attachment limit in these tests


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stored_bytes(monkeypatch):
    """How many bytes of uploaded files reached the handlers that keep them."""
    seen = {"bytes": 0}
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.receive_data_chunk

        def counting(self, raw_data, start, _original=original):
            seen["bytes"] += len(raw_data)
            return _original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", counting)
    return seen


def big_file(size: int, name: str = "quote.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"0" * (size - 9), "application/pdf")


@pytest.mark.postgres
@override_settings(SRM_ATTACHMENT_MAX_BYTES=LIMIT)
def test_an_oversized_attachment_is_413_and_stops_being_read_at_the_limit(org, submit,
                                                                          stored_bytes):
    laptop = submit()
    events = AuditEvent.objects.count()
    response = signed_in(org.alice).post(
        reverse("conversation:comment", args=[laptop.reference]),
        {"body": "The quote", "files": [big_file(30 * LIMIT)]})
    assert response.status_code == 413
    # A page naming the file and the limit, in words a person can act on.
    assert "“quote.pdf” is larger than 97.7\xa0KB" in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    # Of the 3 MB file, at most the limit (and one chunk of 64 KiB) was read and kept.
    assert stored_bytes["bytes"] <= LIMIT + 64 * 1024
    assert not Comment.objects.exists() and not Attachment.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.postgres
@override_settings(SRM_ATTACHMENT_MAX_BYTES=LIMIT)
def test_an_oversized_attachment_through_the_api_is_a_json_413(org, submit, stored_bytes):
    laptop = submit()
    response = signed_in(org.alice).post(
        f"/api/v1/requests/{laptop.reference}/comments/",
        {"body": "The quote", "files": [big_file(30 * LIMIT)]})
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large" and body["status"] == 413
    assert "“quote.pdf” is larger than 97.7\xa0KB" in body["message"]
    assert stored_bytes["bytes"] <= LIMIT + 64 * 1024
    assert not Comment.objects.exists()


@pytest.mark.postgres
@override_settings(SRM_ATTACHMENT_MAX_BYTES=LIMIT)
def test_a_file_within_the_limit_is_taken(org, submit):
    laptop = submit()
    response = signed_in(org.alice).post(
        reverse("conversation:comment", args=[laptop.reference]),
        {"body": "The quote", "files": [big_file(LIMIT // 2)]})
    assert response.status_code in (200, 302)
    assert Attachment.objects.count() == 1


@pytest.mark.postgres
@override_settings(SRM_ATTACHMENT_MAX_BYTES=1_000, SRM_IMPORT_MAX_BYTES=LIMIT)
def test_the_import_page_declares_its_own_limit(org, stored_bytes):
    from tests.factories import make_plan

    plan = make_plan(org)
    client = signed_in(org.olivia)
    url = reverse("plans:import", args=[plan.pk])
    csv = SimpleUploadedFile("export.csv", b"external_key,title\n" + b"k,t\n" * 1_000, "text/csv")
    # Larger than attachments may be, within the import limit: read in full, checked by the form.
    assert client.post(url, {"item": org.item["laptop"].pk, "file": csv}).status_code != 413
    over = SimpleUploadedFile("export.csv", b"x" * (3 * LIMIT), "text/csv")
    stored_bytes["bytes"] = 0
    assert client.post(url, {"item": org.item["laptop"].pk, "file": over}).status_code == 413
    assert stored_bytes["bytes"] <= LIMIT + 64 * 1024


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_form_body_over_the_memory_limit_is_413_before_it_is_read(org):
    response = signed_in(org.alice).post("/portal/search/", {"q": "x" * 20_000})
    assert response.status_code == 413


def test_the_body_limit_is_one_figure_for_the_app_and_the_proxy(settings):
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f"client_max_body_size {settings.SRM_MAX_REQUEST_BYTES // (1024 * 1024)}m;" in conf


# --- X-Forwarded-Proto -----------------------------------------------------------------------
PROXY = "10.0.0.2"
BEHIND_THE_PROXY = {"TRUSTED_PROXIES": [PROXY], "SECURE_SSL_REDIRECT": True,
                    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}


@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_client_claiming_https_over_http_is_not_believed_without_a_trusted_proxy(org, settings):
    assert settings.SECURE_PROXY_SSL_HEADER is None  # no TRUSTED_PROXIES in the tests
    response = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301 and response["Location"].startswith("https://")


@override_settings(**BEHIND_THE_PROXY)
def test_behind_the_trusted_proxy_its_header_says_https(org):
    response = Client(REMOTE_ADDR=PROXY).get("/accounts/login/",
                                             headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert Client(REMOTE_ADDR=PROXY).get("/accounts/login/").status_code == 301


@override_settings(**BEHIND_THE_PROXY)
def test_with_a_proxy_configured_a_client_reaching_the_app_directly_is_not_believed(org):
    response = Client(REMOTE_ADDR="203.0.113.9").get("/accounts/login/",
                                                     headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301


@pytest.mark.parametrize(("value", "expected"), [(None, "None"), ("", "None"),
                                                 ("10.0.0.2", "('HTTP_X_FORWARDED_PROTO', 'https')")])
def test_only_trusted_proxies_turn_the_header_on(value, expected):
    env = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXIES"}
    env["DJANGO_SETTINGS_MODULE"] = "srm.settings"
    if value is not None:
        env["TRUSTED_PROXIES"] = value
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
                               " print(settings.SECURE_PROXY_SSL_HEADER)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
