"""Submitting, finding and following requests over the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app.models import ServiceRequest


def test_a_submission_is_validated_like_the_portal(world, client_for):
    # Given a laptop request missing its model and with an unknown answer
    response = client_for("alice").post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "x", "colour": "red"}, "estimated_cost": "100",
    }, format="json")
    # Then the integrator learns about each field, as a portal user would
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_answers"
    assert body["field_errors"]["model"] == ["This field is required."]
    assert body["field_errors"]["colour"] == ["This item has no such field."]


def test_a_cost_is_required_where_the_item_asks_for_one(world, client_for):
    response = client_for("alice").post("/api/v1/requests/", {
        "item": "phone", "answers": {"details": "x"}}, format="json")
    assert response.status_code == 400
    assert "estimated_cost" in response.json()["field_errors"]


def test_a_submission_returns_the_request_with_its_path(world, client_for):
    response = client_for("alice").post("/api/v1/requests/", {
        "item": "laptop", "title": "Laptop for Sam",
        "answers": {"details": "New hire", "model": "15-inch performance"},
        "estimated_cost": 6000,
    }, format="json")
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/v1/requests/{body['reference']}/"
    assert body["title"] == "Laptop for Sam"
    assert body["estimated_cost"] == "6000.00"
    assert body["state"] == "in_approval"
    assert [s["name"] for s in body["steps"]] == ["Head approval", "Finance approval", "Fulfilment"]
    assert body["current_step"]["name"] == "Head approval"
    assert [e["verb"] for e in body["timeline"]] == ["request.submitted", "step.activated"]
    assert ServiceRequest.objects.get(reference=body["reference"]).source == "api"


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"laptop", "desk", "access"}),
    ("state=in_progress", {"desk", "access"}),
    ("state=in_approval", {"laptop"}),
    ("item=laptop", {"laptop"}),
    ("department=MKT", {"laptop", "desk", "access"}),
    ("department=IT", set()),
    ("accountable_department=IT", {"access"}),
    ("accountable_department=MKT", {"laptop"}),
    ("overdue=false", {"laptop", "desk", "access"}),
])
def test_filters(world, client_for, query, expected):
    body = client_for("olivia").get(f"/api/v1/requests/?{query}").json()
    assert {r["reference"] for r in body["results"]} == {
        getattr(world, n).reference for n in expected
    }


def test_date_and_overdue_filters(world, client_for):
    ServiceRequest.objects.filter(pk=world.desk.pk).update(
        due_at=timezone.now() - timedelta(hours=1),
        submitted_at=timezone.now() - timedelta(days=10),
    )
    client = client_for("olivia")

    def refs(query: str) -> set[str]:
        return {r["reference"] for r in client.get(f"/api/v1/requests/?{query}").json()["results"]}

    last_week = (timezone.now() - timedelta(days=7)).isoformat().replace("+", "%2B")
    assert refs("overdue=true") == {world.desk.reference}
    assert refs(f"submitted_before={last_week}") == {world.desk.reference}
    assert world.desk.reference not in refs(f"submitted_after={last_week}")
    assert refs(f"due_before={timezone.now().isoformat().replace('+', '%2B')}") == {
        world.desk.reference
    }


def test_page_size_is_bounded(world, client_for):
    body = client_for("olivia").get("/api/v1/requests/?page_size=1").json()
    assert body["count"] == 3 and len(body["results"]) == 1 and body["next"]
    # Asking for more than 100 gets 100 at most (here: all three).
    assert len(client_for("olivia").get("/api/v1/requests/?page_size=100000").json()["results"]) == 3


def test_detail_has_steps_and_the_full_timeline(world, client_for):
    body = client_for("alice").get(f"/api/v1/requests/{world.access.reference}/").json()
    assert [s["state"] for s in body["steps"]] == ["approved", "active"]
    assert body["steps"][0]["decided_by"]["username"] == "hank"
    assert [e["verb"] for e in body["timeline"]] == [
        "request.submitted", "step.activated", "step.approved", "step.activated",
        "request.in_progress",
    ]
    assert body["answers"] == {"details": "CRM for the campaign", "system": "CRM",
                               "read_only": False}


def test_detail_sends_etag_and_last_modified_and_answers_304(world, client_for):
    client = client_for("alice")
    url = f"/api/v1/requests/{world.laptop.reference}/"
    first = client.get(url)
    etag = first["ETag"]
    assert first["Last-Modified"]
    # Unchanged: 304 without a body
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    # Changed (hank approves): a new body and a new ETag
    client_for("hank").post(f"/api/v1/steps/{world.laptop_step.pk}/approve/", {}, format="json")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_list_query_count_does_not_grow_with_requests(world, client_for, submit,
                                                      django_assert_max_num_queries, org):
    for _ in range(10):
        submit(actor=org.bob, item="desk-move", cost="0")
    client = client_for("hank")
    client.get("/api/v1/me/")  # token lookup warmed: what follows is the list itself
    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/requests/?page_size=100").json()
    assert body["count"] == 13


def test_detail_query_count_is_bounded(world, client_for, django_assert_max_num_queries):
    client = client_for("olivia")
    with django_assert_max_num_queries(8):
        assert client.get(f"/api/v1/requests/{world.laptop.reference}/").status_code == 200


@pytest.mark.parametrize(("url", "limit"), [
    ("/api/v1/steps/", 6), ("/api/v1/delay-risks/", 5), ("/api/v1/kpis/", 5),
    ("/api/v1/catalog-items/", 5), ("/api/v1/delegations/", 5), ("/api/v1/me/", 5),
])
def test_other_lists_have_a_bounded_query_count(world, client_for, url, limit,
                                                django_assert_max_num_queries):
    client = client_for("hank")
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def test_catalog_item_shows_its_form(world, client_for):
    body = client_for("bob").get("/api/v1/catalog-items/laptop/").json()
    assert body["kpi"]["name"] == "Laptop delivery cycle time"
    model = next(f for f in body["form_fields"] if f["name"] == "model")
    assert model["type"] == "choice" and model["required"] is True
    assert "15-inch performance" in model["choices"]


def test_unpublished_items_are_not_in_the_catalog(world, client_for, org):
    org.item["phone"].is_published = False
    org.item["phone"].save(update_fields=["is_published"])
    client = client_for("bob")
    assert client.get("/api/v1/catalog-items/phone/").status_code == 404
    codes = {i["code"] for i in client.get("/api/v1/catalog-items/?page_size=100").json()["results"]}
    assert "phone" not in codes and "laptop" in codes
    response = client.post("/api/v1/requests/", {"item": "phone", "answers": {"details": "x"},
                                                 "estimated_cost": "1"}, format="json")
    assert response.status_code == 400 and "item" in response.json()["field_errors"]


def test_me(world, client_for):
    body = client_for("hank").get("/api/v1/me/").json()
    assert body["username"] == "hank"
    assert body["department"] == {"code": "MKT", "name": "Marketing"}
    assert body["leads"] == [{"code": "MKT", "name": "Marketing"}]
    assert client_for("olivia").get("/api/v1/me/").json()["is_ops_leader"] is True


def test_delay_risk_filters(world, client_for):
    client = client_for("olivia")

    def ids(query: str) -> set[int]:
        return {r["id"] for r in client.get(f"/api/v1/delay-risks/?{query}").json()["results"]}

    assert ids("department=FAC") == {world.risk["desk"].pk}
    assert ids("open=true") == {world.risk["desk"].pk, world.risk["laptop"].pk}
    assert ids("open=false") == set()
    assert ids("level=2") == set()
    assert client.get("/api/v1/delay-risks/?level=7").status_code == 400
