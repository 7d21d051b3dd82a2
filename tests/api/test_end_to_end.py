"""An integrator's whole journey over the API, with tokens only."""

from __future__ import annotations

from django.core.management import call_command

from governance.models import AuditEvent
from requests_app.models import ServiceRequest


def _token_client(client_class, username: str):
    from io import StringIO

    out = StringIO()
    call_command("create_api_token", username, stdout=out)
    client = client_class()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    return client


def test_submit_over_threshold_then_head_finance_agent_to_fulfilled(org):
    from rest_framework.test import APIClient

    alice, hank, felix, ivan = (_token_client(APIClient, n) for n in ("alice", "hank", "felix", "ivan"))

    # Given alice's system submits a laptop over the finance threshold
    created = alice.post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "New hire", "model": "Developer workstation"},
        "estimated_cost": "7500.00",
    }, format="json")
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]

    def active_step(client, role: str) -> dict:
        steps = client.get(f"/api/v1/steps/?role={role}").json()["results"]
        [step] = [s for s in steps if s["request"] == reference]
        return step

    # When hank (head) approves, the finance approval appears for Finance's approver
    step = active_step(hank, "decide")
    assert step["name"] == "Head approval"
    assert hank.post(f"/api/v1/steps/{step['id']}/approve/", {"comment": "Yes"},
                     format="json").status_code == 200
    step = active_step(felix, "decide")
    assert step["name"] == "Finance approval"
    assert felix.post(f"/api/v1/steps/{step['id']}/approve/", {"comment": "Budgeted"},
                      format="json").status_code == 200

    # And an IT agent claims and completes the fulfilment
    step = active_step(ivan, "work")
    assert step["name"] == "Fulfilment"
    assert ivan.post(f"/api/v1/steps/{step['id']}/claim/").status_code == 200
    done = ivan.post(f"/api/v1/steps/{step['id']}/complete/", {"note": "Delivered"},
                     format="json")
    assert done.status_code == 200 and done.json()["state"] == "done"

    # Then the request is fulfilled, as alice sees it
    detail = alice.get(f"/api/v1/requests/{reference}/").json()
    assert detail["state"] == "fulfilled" and detail["closed_at"]
    assert [(s["name"], s["state"]) for s in detail["steps"]] == [
        ("Head approval", "approved"), ("Finance approval", "approved"), ("Fulfilment", "done"),
    ]
    # And the audit trail tells the whole story, each step by the person who acted
    trail = [(e["verb"], (e["actor"] or {}).get("username")) for e in detail["timeline"]]
    assert trail == [
        ("request.submitted", "alice"), ("step.activated", "alice"),
        ("step.approved", "hank"), ("step.activated", "hank"),
        ("step.approved", "felix"), ("step.activated", "felix"), ("request.in_progress", "felix"),
        ("step.claimed", "ivan"),
        ("step.done", "ivan"), ("request.fulfilled", "ivan"),
    ]
    request = ServiceRequest.objects.get(reference=reference)
    assert request.source == "api"
    assert AuditEvent.objects.filter(correlation=reference).count() == len(trail)
