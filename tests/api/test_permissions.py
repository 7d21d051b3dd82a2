"""The permission matrix: every endpoint × every role, with the status each one gets.

Given the ``world`` of tests/api/conftest.py (alice's laptop waiting for hank, bob's desk
move at Facilities, alice's access request in IT's work queue, a delay risk on each of the
first two), each row says what every person receives. Visibility follows the pages' rule:
invisible objects are 404, visible ones you may not act on are 403.
"""

from __future__ import annotations

import pytest

from requests_app.models import ServiceRequest
from tests.api.conftest import ROLES

ANON = {"anonymous": 401}


def _matrix(**statuses: int) -> list:
    """One param per role; roles not named get the ``others`` status."""
    others = statuses.pop("others")
    table = {**ANON, **statuses}
    return [pytest.param(role, table.get(role, others), id=role) for role in ROLES]


# --- reads --------------------------------------------------------------------------------------

READS = {
    "me": ("/api/v1/me/", _matrix(others=200)),
    "catalog": ("/api/v1/catalog-items/", _matrix(others=200)),
    "catalog-item": ("/api/v1/catalog-items/laptop/", _matrix(others=200)),
    "requests": ("/api/v1/requests/", _matrix(others=200)),
    "steps": ("/api/v1/steps/", _matrix(others=200)),
    "delegations": ("/api/v1/delegations/", _matrix(others=200)),
    "delay-risks": ("/api/v1/delay-risks/", _matrix(others=200)),
    "kpis": ("/api/v1/kpis/", _matrix(others=200)),
}


@pytest.mark.parametrize(
    ("url", "role", "expected"),
    [pytest.param(url, *p.values, id=f"{name}-{p.id}")
     for name, (url, params) in READS.items() for p in params],
)
def test_list_endpoints_need_a_signed_in_user(world, client_for, url, role, expected):
    response = client_for(role).get(url)
    assert response.status_code == expected
    if expected == 401:
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"


SEES_REQUEST = {
    "laptop": {"alice", "hank", "irene", "ivan", "fiona", "olivia"},
    "desk": {"bob", "hank", "olivia"},
    "access": {"alice", "hank", "irene", "ivan", "olivia"},
}


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_request_list_shows_exactly_what_each_person_may_see(world, client_for, role):
    response = client_for(role).get("/api/v1/requests/")
    references = {r["reference"] for r in response.json()["results"]}
    expected = {getattr(world, name).reference for name, who in SEES_REQUEST.items() if role in who}
    assert references == expected


@pytest.mark.parametrize("name", sorted(SEES_REQUEST))
@pytest.mark.parametrize("role", ROLES)
def test_request_detail_is_404_for_whoever_may_not_see_it(world, client_for, role, name):
    reference = getattr(world, name).reference
    response = client_for(role).get(f"/api/v1/requests/{reference}/")
    if role == "anonymous":
        assert response.status_code == 401
    elif role in SEES_REQUEST[name]:
        assert response.status_code == 200
        assert response.json()["reference"] == reference
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


SEES_RISK = {"laptop": SEES_REQUEST["laptop"], "desk": SEES_REQUEST["desk"]}


@pytest.mark.parametrize("role", ROLES[1:])
def test_delay_risks_follow_the_visibility_of_their_requests(world, client_for, role):
    body = client_for(role).get("/api/v1/delay-risks/").json()
    seen = {r["id"] for r in body["results"]}
    assert seen == {world.risk[n].pk for n, who in SEES_RISK.items() if role in who}
    for name, risk in world.risk.items():
        status = client_for(role).get(f"/api/v1/delay-risks/{risk.pk}/").status_code
        assert status == (200 if role in SEES_RISK[name] else 404)


STEP_QUEUES = {
    # role: (steps to decide, steps to work)
    "alice": (set(), set()),
    "bob": (set(), set()),
    "hank": ({"laptop"}, set()),
    "irene": (set(), set()),
    "ivan": (set(), {"access"}),
    "fiona": (set(), set()),
    "olivia": (set(), set()),
}


@pytest.mark.parametrize("role", ROLES[1:])
def test_step_queues_hold_only_what_the_person_can_act_on(world, client_for, role):
    client = client_for(role)
    ids = {"laptop": world.laptop_step.pk, "access": world.access_step.pk}
    decide, work = STEP_QUEUES[role]

    def listed(query: str) -> set[int]:
        return {s["id"] for s in client.get(f"/api/v1/steps/{query}").json()["results"]}

    assert listed("?role=decide") == {ids[n] for n in decide}
    assert listed("?role=work") == {ids[n] for n in work}
    assert listed("") == {ids[n] for n in decide | work}


# --- actions ------------------------------------------------------------------------------------

# Deciding hank's laptop approval: alice sees it but it is her own request; irene, ivan and fiona
# see the request but are not its approver; bob does not see it; olivia watches, never decides.
DECIDE = _matrix(hank=200, bob=404, others=403)
# Working IT's access step: only IT's agent; fiona and bob cannot see the request.
WORK = _matrix(ivan=200, bob=404, fiona=404, others=403)


@pytest.mark.parametrize(("role", "expected"), [p.values for p in DECIDE], ids=ROLES)
def test_approve(world, client_for, role, expected):
    response = client_for(role).post(
        f"/api/v1/steps/{world.laptop_step.pk}/approve/", {"comment": "ok"}, format="json"
    )
    assert response.status_code == expected, response.json()
    if expected == 200:
        assert response.json()["state"] == "approved"


@pytest.mark.parametrize(("role", "expected"), [p.values for p in DECIDE], ids=ROLES)
def test_reject(world, client_for, role, expected):
    response = client_for(role).post(
        f"/api/v1/steps/{world.laptop_step.pk}/reject/", {"comment": "Not this quarter."},
        format="json",
    )
    assert response.status_code == expected, response.json()
    if expected == 200:
        assert ServiceRequest.objects.get(pk=world.laptop.pk).state == "rejected"


@pytest.mark.parametrize(("role", "expected"), [p.values for p in WORK], ids=ROLES)
def test_complete(world, client_for, role, expected):
    response = client_for(role).post(
        f"/api/v1/steps/{world.access_step.pk}/complete/", {"note": "Granted."}, format="json"
    )
    assert response.status_code == expected, response.json()
    if expected == 200:
        assert ServiceRequest.objects.get(pk=world.access.pk).state == "fulfilled"


@pytest.mark.parametrize(("role", "expected"), [p.values for p in WORK], ids=ROLES)
def test_claim(world, client_for, role, expected):
    response = client_for(role).post(f"/api/v1/steps/{world.access_step.pk}/claim/")
    assert response.status_code == expected, response.json()
    if expected == 200:
        assert response.json()["assignee"]["username"] == role


# Cancelling alice's laptop request: she and the ops leader may; others who see it get 403.
CANCEL = _matrix(alice=200, olivia=200, bob=404, others=403)


@pytest.mark.parametrize(("role", "expected"), [p.values for p in CANCEL], ids=ROLES)
def test_cancel(world, client_for, role, expected):
    response = client_for(role).post(
        f"/api/v1/requests/{world.laptop.reference}/cancel/", {"reason": "Plans changed."},
        format="json",
    )
    assert response.status_code == expected, response.json()
    if expected == 200:
        assert response.json()["state"] == "cancelled"


@pytest.mark.parametrize(("role", "expected"), [p.values for p in _matrix(others=201)], ids=ROLES)
def test_submit(world, client_for, role, expected):
    response = client_for(role).post("/api/v1/requests/", {
        "item": "access", "answers": {"details": "Reports", "system": "BI"},
        "estimated_cost": "0",
    }, format="json")
    assert response.status_code == expected, response.json()
    if expected == 201:
        assert response.json()["requester"]["username"] == role
        assert response.json()["source"] == "api"


# Heads, deputies and approvers delegate, to a colleague of their department; people with no
# approvals of their own have nothing to delegate.
CREATE_DELEGATION = _matrix(hank=201, irene=201, fiona=201, others=403)
COLLEAGUE = {"hank": "bob", "irene": "ivan", "fiona": "felix"}


@pytest.mark.parametrize(("role", "expected"), [p.values for p in CREATE_DELEGATION], ids=ROLES)
def test_create_delegation(org, client_for, role, expected):
    from django.utils import timezone

    response = client_for(role).post("/api/v1/delegations/", {
        "delegate": COLLEAGUE.get(role, "bob" if role != "bob" else "alice"),
        "starts_on": str(timezone.localdate()), "ends_on": "2099-12-31",
    }, format="json")
    assert response.status_code == expected, response.json()
    if expected == 403:
        assert response.json()["code"] == "not_decider"


# hank delegates to bob: hank may end it; bob sees it but may not end it; olivia sees every
# delegation but only the delegator ends one; the others do not see it.
END = _matrix(hank=200, bob=403, olivia=403, others=404)


@pytest.mark.parametrize(("role", "expected"), [p.values for p in END], ids=ROLES)
def test_end_delegation(org, client_for, role, expected):
    from django.utils import timezone

    from approvals.services import delegation_create

    today = timezone.localdate()
    delegation = delegation_create(actor=org.hank, delegate=org.bob, starts_on=today,
                                   ends_on=today)
    response = client_for(role).post(f"/api/v1/delegations/{delegation.pk}/end/")
    assert response.status_code == expected, response.json()
    listed = client_for(role).get("/api/v1/delegations/")
    if role != "anonymous":
        ids = {d["id"] for d in listed.json()["results"]}
        assert (delegation.pk in ids) == (expected != 404)
