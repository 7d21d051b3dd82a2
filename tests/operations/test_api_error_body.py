"""Under /api/ every failure has the API's one error body (status, code, message,
field_errors; a 5xx also the request id), whoever answers it: DRF, the request guard,
Django's own error handlers, or a view that only set a status. Pages keep their pages."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings

from kit.guard import json_depth
from kit.responses import too_large_response
from requests_app.models import ServiceRequest
from tests.factories import api_token

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"status", "code", "message", "field_errors"}
TEST_URLS = "tests.operations.error_urls"


def _error(response, status: int, code: str, *, keys=ERROR_KEYS) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == keys
    assert (body["status"], body["code"]) == (status, code)
    assert body["message"]
    return body


@pytest.fixture
def api(org) -> Client:
    token = api_token(org.alice)
    return Client(HTTP_AUTHORIZATION=f"Token {token}", raise_request_exception=False)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- 400 ------------------------------------------------------------------------------------

def test_malformed_json_is_400_parse_error(api):
    _error(api.post("/api/v1/requests/", '{"item": ', content_type="application/json"),
           400, "parse_error")


def test_json_nested_100000_deep_is_400_json_too_deep_not_a_500(api):
    body = _error(api.post("/api/v1/requests/", _nested(100_000),
                           content_type="application/json"), 400, "json_too_deep")
    assert "32 levels" in body["message"]
    assert not ServiceRequest.objects.exists()


def test_answers_nested_3000_deep_are_400_json_too_deep(api):
    payload = '{"item": "laptop", "answers": {"details": ' + _nested(3000) + "}}"
    _error(api.post("/api/v1/requests/", payload, content_type="application/json"),
           400, "json_too_deep")
    assert not ServiceRequest.objects.exists()


@override_settings(SRM_JSON_MAX_DEPTH=3)
def test_the_depth_limit_is_a_setting_and_brackets_in_strings_do_not_count(api):
    at_limit = {"item": "laptop", "answers": {"details": ["[[[[{{{{"]}}
    response = api.post("/api/v1/requests/", json.dumps(at_limit), content_type="application/json")
    assert response.json()["code"] != "json_too_deep"
    too_deep = {"item": "laptop", "answers": {"details": [["x"]]}}
    _error(api.post("/api/v1/requests/", json.dumps(too_deep), content_type="application/json"),
           400, "json_too_deep")


def test_json_depth_counts_without_parsing():
    assert json_depth(b'{"a": "[[[\\"[[", "b": [[1]]}') == 3
    assert json_depth(b"1") == 0
    assert json_depth(_nested(100_000).encode()) == 100_000


# --- 403 ------------------------------------------------------------------------------------

@pytest.mark.urls(TEST_URLS)
def test_permission_denied_outside_drf_is_a_json_403(api):
    body = _error(api.get("/api/test/forbidden/"), 403, "forbidden")
    assert body["message"] == "Only the owner may do this."


@pytest.mark.urls(TEST_URLS)
def test_a_failed_csrf_check_under_the_api_is_a_json_403(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.alice)
    body = _error(client.post("/api/test/form/", {"a": "b"}), 403, "forbidden")
    assert "CSRF" in body["message"]


@pytest.mark.urls(TEST_URLS)
def test_a_page_keeps_its_html_403(org):
    client = Client(raise_request_exception=False)
    response = client.get("/test/forbidden/")
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")


# --- 404 ------------------------------------------------------------------------------------

def test_an_unknown_path_under_api_outside_v1_is_a_json_404(api):
    body = _error(api.get("/api/v2/requests/"), 404, "not_found")
    assert "/api/v1/" in body["message"]


def test_an_unknown_page_is_still_an_html_404(org):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


# --- 405 ------------------------------------------------------------------------------------

def test_a_wrong_method_on_an_endpoint_is_405(api):
    _error(api.delete("/api/v1/me/"), 405, "method_not_allowed")


@pytest.mark.urls(TEST_URLS)
def test_a_405_from_a_plain_django_view_gets_the_body_and_keeps_allow(api):
    response = api.get("/api/test/post-only/")
    _error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


# --- 413 ------------------------------------------------------------------------------------

@override_settings(SRM_MAX_REQUEST_BYTES=1024 * 1024)
def test_a_body_over_the_limit_is_a_json_413_before_it_is_read(api):
    body = _error(api.post("/api/v1/requests/", "{}", content_type="application/json",
                           CONTENT_LENGTH=str(5 * 1024 * 1024)), 413, "too_large")
    assert "1,024 KiB" in body["message"]


@pytest.mark.urls(TEST_URLS)
def test_request_data_too_big_raised_anywhere_is_a_json_413_not_a_400(api):
    _error(api.post("/api/test/too-big/"), 413, "too_large")


@pytest.mark.urls(TEST_URLS)
def test_request_data_too_big_on_a_page_is_413_too(org):
    assert Client(raise_request_exception=False).get("/test/too-big/").status_code == 413


def test_the_413_body_is_one_function_any_layer_can_answer_with():
    response = too_large_response(2 * 1024 * 1024)
    assert response.status_code == 413
    assert json.loads(response.content) == {
        "status": 413, "code": "too_large", "field_errors": {},
        "message": "The request is too large: at most 2,048 KiB are accepted here."}


# --- 500 ------------------------------------------------------------------------------------

@pytest.mark.urls(TEST_URLS)
def test_a_bug_outside_drf_is_a_json_500_with_the_request_id_in_the_log(api, caplog):
    with caplog.at_level(logging.ERROR):
        response = api.get("/api/test/broken/", HTTP_X_REQUEST_ID="op-find-me")
    body = _error(response, 500, "server_error", keys=ERROR_KEYS | {"request_id"})
    assert body["request_id"] == "op-find-me" == response["X-Request-ID"]
    assert "could not confirm whether your change was saved" in body["message"]
    assert any(r.request_id == "op-find-me" and r.exc_info for r in caplog.records)


# --- 503 ------------------------------------------------------------------------------------

def test_a_database_outage_is_a_json_503_with_retry_after(api, monkeypatch):
    from django.db import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(
        "governance.api.auth.TokenAuthentication.authenticate_credentials", down)
    response = api.get("/api/v1/me/", HTTP_X_REQUEST_ID="db-down-1")
    body = _error(response, 503, "unavailable", keys=ERROR_KEYS | {"request_id"})
    assert int(response["Retry-After"]) > 0
    assert body["request_id"] == "db-down-1"
