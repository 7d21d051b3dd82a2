"""Every error, whoever raises it, has one body: status, code, message, field_errors.
Bad input is a 4xx, never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

ERROR_KEYS = {"status", "code", "message", "field_errors"}


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["message"]
    return body


def test_anonymous_gets_401_with_the_token_challenge(org, client_for):
    response = client_for("anonymous").get("/api/v1/requests/")
    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(org, client):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token not-a-token")
    _error(response, 401, "authentication_failed")


def test_malformed_json_is_a_parse_error(world, client_for):
    response = client_for("alice").post(
        "/api/v1/requests/", data='{"item": "laptop", ', content_type="application/json"
    )
    _error(response, 400, "parse_error")


def test_a_form_post_is_415(world, client_for):
    response = client_for("alice").post("/api/v1/requests/", {"item": "laptop"})
    _error(response, 415, "unsupported_media_type")


def test_asking_for_xml_is_406(world, client_for):
    response = client_for("alice").get("/api/v1/requests/", HTTP_ACCEPT="application/xml")
    _error(response, 406, "not_acceptable")


def test_a_wrong_method_is_405(world, client_for):
    response = client_for("alice").delete(f"/api/v1/requests/{world.laptop.reference}/")
    _error(response, 405, "method_not_allowed")


def test_an_unknown_endpoint_is_a_json_404(world, client_for):
    _error(client_for("alice").get("/api/v1/nothing-here/"), 404, "not_found")


def test_a_page_past_the_end_is_404(world, client_for):
    _error(client_for("alice").get("/api/v1/requests/?page=99999999999999999999"), 404, "not_found")


def test_deciding_twice_is_409_already_decided(world, client_for):
    url = f"/api/v1/steps/{world.laptop_step.pk}/approve/"
    assert client_for("hank").post(url, {}, format="json").status_code == 200
    body = _error(client_for("hank").post(url, {}, format="json"), 409, "already_decided")
    assert "already approved by Hank Hughes" in body["message"]


def test_rejecting_without_a_reason_names_the_field(world, client_for):
    response = client_for("hank").post(
        f"/api/v1/steps/{world.laptop_step.pk}/reject/", {"comment": "  "}, format="json"
    )
    body = _error(response, 400, "comment_required")
    assert body["field_errors"] == {"comment": ["A reason is required to reject."]}


def test_a_domain_refusal_keeps_its_code(world, client_for):
    response = client_for("alice").post(f"/api/v1/steps/{world.laptop_step.pk}/approve/",
                                        {}, format="json")
    _error(response, 403, "own_request")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item": "no-such-item", "answers": {}}, "item"),
        ({"item": ["laptop"], "answers": {}}, "item"),
        ({"item": "laptop", "answers": "not an object"}, "answers"),
        ({"item": "laptop", "answers": [1, 2]}, "answers"),
        ({"item": "laptop", "answers": {}, "estimated_cost": "12abc"}, "estimated_cost"),
        ({"item": "laptop", "answers": {}, "estimated_cost": True}, "estimated_cost"),
        ({"item": "laptop", "answers": {}, "estimated_cost": {"amount": 1}}, "estimated_cost"),
        ({"item": "laptop", "answers": {}, "title": "x" * 201}, "title"),
        ({"item": "laptop", "answers": {}, "title": 12}, None),
    ],
)
def test_bad_submissions_are_400_with_field_errors(world, client_for, body, field):
    response = client_for("alice").post("/api/v1/requests/", body, format="json")
    error = _error(response, 400, response.json()["code"])
    if field:
        assert field in error["field_errors"]


@pytest.mark.parametrize("cost", [1e308, 10**30, "99999999999", "1e5"])
def test_huge_or_odd_costs_are_400_not_500(world, client_for, cost):
    response = client_for("alice").post("/api/v1/requests/", {
        "item": "phone", "answers": {"details": "x"}, "estimated_cost": cost,
    }, format="json")
    body = _error(response, 400, response.json()["code"])
    assert "estimated_cost" in body["field_errors"]


def test_a_body_that_is_not_an_object_is_400(world, client_for):
    response = client_for("alice").post("/api/v1/requests/", [1, 2], format="json")
    _error(response, 400, "invalid")


@pytest.mark.parametrize("query", [
    "state=lost", "submitted_after=yesterday", "overdue=perhaps",
    "due_before=9999-12-31T23:59:59-14:00", "page_size=-1&page=0",
    "submitted_after=0677-01-30T06:24:47%2B20:55", "overdue=null", "page=", "state=",
])
def test_bad_filters_are_400_or_ignored_never_500(world, client_for, query):
    response = client_for("olivia").get(f"/api/v1/requests/?{query}")
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        assert set(response.json()) == ERROR_KEYS


@pytest.mark.parametrize("path", [
    "/api/v1/steps/99999999999999999999999/approve/",
    "/api/v1/delegations/0/end/",
    "/api/v1/kpis/123456789012345678901234567890/",
])
def test_odd_ids_are_404(world, client_for, path):
    response = client_for("olivia").post(path) if path.endswith("/end/") or "approve" in path \
        else client_for("olivia").get(path)
    _error(response, 404, "not_found")


def test_a_nul_in_an_id_is_400(world, client_for):
    _error(client_for("olivia").get("/api/v1/requests/SR-%00/"), 400, "nul_character")


@override_settings(SRM_API_THROTTLE_USER="3/minute")
def test_too_many_requests_is_429_with_retry_after(world, client_for):
    client = client_for("alice")
    for _ in range(3):
        assert client.get("/api/v1/me/").status_code == 200
    response = client.get("/api/v1/me/")
    _error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@override_settings(SRM_API_THROTTLE_ANON="2/minute", SRM_API_DOCS_PUBLIC=True)
def test_anonymous_callers_are_throttled_too(org, client_for):
    # DRF checks permissions before throttles, so the anonymous rate guards the public
    # endpoints (the schema, when SRM_API_DOCS_PUBLIC opens it); protected ones answer 401 first.
    client = client_for("anonymous")
    for _ in range(2):
        assert client.get("/api/schema/?format=json").status_code == 200
    _error(client.get("/api/schema/?format=json"), 429, "throttled")
