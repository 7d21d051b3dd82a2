"""Input no field accepts is a clear 4xx that changes nothing — never a 500.

Found by the authorised attack on main: a NUL byte in ``?q=``, a title, a comment or a hold
question, and a cost of 9999999999.995, each answered 500 (the API with an HTML page)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from approvals.choices import StepState
from governance.models import AuditEvent
from requests_app.models import Comment, ServiceRequest

NUL = "\x00"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def laptop(org, submit):
    return submit(cost="1200")


@pytest.mark.postgres
def test_a_nul_in_the_catalog_search_is_400(org):
    response = signed_in(org.alice).get("/portal/", {"q": f"lap{NUL}top"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.postgres
def test_a_nul_in_a_title_is_400_and_submits_nothing(org):
    response = signed_in(org.alice).post(reverse("portal:submit", args=["laptop"]), {
        "title": f"New{NUL}laptop", "details": "For the team.", "model": "13-inch standard",
        "estimated_cost": "1200"})
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()


@pytest.mark.postgres
def test_a_nul_in_a_comment_is_400_and_adds_nothing(org, laptop):
    events = AuditEvent.objects.count()
    response = signed_in(org.alice).post(
        reverse("conversation:comment", args=[laptop.reference]), {"body": f"Hi{NUL}"})
    assert response.status_code == 400
    assert not Comment.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.postgres
def test_a_nul_in_a_hold_question_is_400_and_holds_nothing(org, laptop):
    step = laptop.steps.get(state=StepState.ACTIVE)
    response = signed_in(org.hank).post(
        reverse("conversation:hold", args=[laptop.reference, step.pk]),
        {"question": f"Which{NUL}model?"})
    assert response.status_code == 400
    step.refresh_from_db()
    assert step.on_hold_since is None


@pytest.mark.postgres
def test_a_nul_in_a_json_body_is_a_json_400(org, laptop):
    client = signed_in(org.alice)
    response = client.post(f"/api/v1/requests/{laptop.reference}/comments/",
                           {"body": f"Hi{NUL}"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


@pytest.mark.postgres
def test_a_nul_in_the_path_is_400(org):
    assert signed_in(org.alice).get(f"/portal/requests/SR{NUL}1/").status_code == 400


@pytest.mark.postgres
def test_a_cost_that_rounds_past_the_limit_is_a_form_error(org):
    response = signed_in(org.alice).post(reverse("portal:submit", args=["laptop"]), {
        "details": "For the team.", "model": "13-inch standard",
        "estimated_cost": "9999999999.995"})
    assert response.status_code == 400
    assert "more than two decimals" in response.content.decode()
    assert not ServiceRequest.objects.exists()


@pytest.mark.postgres
def test_a_cost_past_the_limit_is_a_form_error_naming_the_range(org):
    response = signed_in(org.alice).post(reverse("portal:submit", args=["laptop"]), {
        "details": "For the team.", "model": "13-inch standard",
        "estimated_cost": "10000000000"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "between 0.00 and 9,999,999,999.99" in response.content.decode()
    assert not ServiceRequest.objects.exists()


@pytest.mark.postgres
def test_the_api_answers_a_cost_that_rounds_past_the_limit_with_its_json_error(org):
    response = signed_in(org.alice).post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "For the team.", "model": "13-inch standard"},
        "estimated_cost": "9999999999.995"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field_errors"]["estimated_cost"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("cost", ["9999999999.99", "0.00", "0.01"])
def test_costs_inside_the_range_still_submit(org, submit, cost):
    assert submit(cost=cost).estimated_cost is not None


@override_settings(SRM_MAX_REQUEST_BYTES=1024 * 1024)
def test_a_body_over_the_limit_is_413_before_it_is_read(org, laptop):
    client = signed_in(org.alice)
    url = reverse("conversation:comment", args=[laptop.reference])
    # The Content-Length alone decides: the body is never read.
    response = client.generic("POST", url, b"x" * 10, content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH=str(30 * 1024 * 1024))
    assert response.status_code == 413
    assert not Comment.objects.exists()


def test_an_oversized_api_body_is_a_json_413(org):
    response = signed_in(org.alice).post("/api/v1/requests/", "{}", content_type="application/json",
                                         CONTENT_LENGTH=str(5 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_an_unexpected_error_in_the_api_is_still_json(org, monkeypatch):
    from requests_app.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "request_submission", broken)
    client = Client(raise_request_exception=False)
    client.force_login(org.alice)
    response = client.post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "x", "model": "13-inch standard"},
        "estimated_cost": "1"}, content_type="application/json")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()


# --- Control characters: refused in every text input, from the one guard ----------------------
ESC = "\x1b"


@pytest.mark.postgres
@pytest.mark.parametrize("bad", [ESC + "[31m", "\x08", "\x7f", "\x85", "\x0c"])
def test_a_control_character_in_a_title_is_400_naming_the_field(org, bad):
    response = signed_in(org.alice).post(reverse("portal:submit", args=["laptop"]), {
        "title": f"New{bad}laptop", "details": "For the team.", "model": "13-inch standard",
        "estimated_cost": "1200"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "“title”" in text and f"U+{ord(bad[0]):04X}" in text
    assert not ServiceRequest.objects.exists()


@pytest.mark.postgres
def test_tabs_and_line_breaks_are_text_not_control_characters(org, laptop):
    response = signed_in(org.alice).post(
        reverse("conversation:comment", args=[laptop.reference]),
        {"body": "First line\r\nSecond\tline"})
    assert response.status_code in (200, 302)
    assert Comment.objects.get().body == "First line\r\nSecond\tline" or \
        Comment.objects.get().body == "First line\nSecond\tline"


@pytest.mark.postgres
def test_a_control_character_in_json_is_a_json_400(org, laptop):
    response = signed_in(org.alice).post(
        f"/api/v1/requests/{laptop.reference}/comments/", {"body": f"Hi{ESC}"},
        content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "control_character" and "body" in body["message"]
    assert not Comment.objects.exists()


@pytest.mark.postgres
def test_a_lone_surrogate_in_json_is_a_json_400_not_a_500(org, laptop):
    response = signed_in(org.alice).post(
        f"/api/v1/requests/{laptop.reference}/comments/", '{"body": "Hi \\ud800"}',
        content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "control_character"
    assert not Comment.objects.exists()


@pytest.mark.postgres
def test_a_control_character_in_a_query_parameter_is_400(org):
    response = signed_in(org.alice).get("/portal/requests/", {"q": f"lap{ESC}top"})
    assert response.status_code == 400
    assert "“q”" in response.content.decode()


@pytest.mark.postgres
def test_a_control_character_in_an_api_form_with_files_is_400(org, laptop):
    response = signed_in(org.alice).post(
        f"/api/v1/requests/{laptop.reference}/comments/", {"body": f"Hi{ESC}"})
    assert response.status_code == 400
    assert response.json()["code"] == "control_character"
    assert not Comment.objects.exists()
