"""SCIM requests as Microsoft Entra ID and Okta send them (the bodies of their public SCIM
documentation), and what the organisation looks like afterwards: people, departments, a new
head taking over open approvals, a leaver's approvals moving on, every change audited; bad
input answered with a SCIM error and nothing changed; a dry run that changes nothing."""

from __future__ import annotations

import pytest

from accountability.models import Notification, NotificationKind
from approvals.choices import StepState
from governance.choices import AuditVerb
from governance.models import AuditEvent, Department, Membership, User

pytestmark = [pytest.mark.django_db]

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEPARTMENT = "urn:ietf:params:scim:schemas:extension:srm:2.0:Department"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _active_step(request):
    return request.steps.select_related("accountable_head").get(state=StepState.ACTIVE)


def _entra_user(user_name: str, external_id: str, department: str = "Marketing",
               email: str = "") -> dict:
    # Entra ID's "Create User" request (its SCIM endpoint guide), with the enterprise
    # extension's department as its attribute mapping sends it.
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": email or user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
        "roles": [],
        ENTERPRISE: {"department": department},
    }


def test_entra_creates_a_person_finds_them_by_username_and_external_id(scim, org):
    created = scim("POST", "Users", _entra_user("grace@example.com", "0a21f0f2-8d2a"))

    assert created.status_code == 201, created.content
    body = created.json()
    grace = User.objects.get(username="grace@example.com")
    assert (grace.first_name, grace.last_name, grace.email) == ("Grace", "Hopper",
                                                                 "grace@example.com")
    assert (grace.source, grace.external_id, grace.department) == ("scim", "0a21f0f2-8d2a",
                                                                   org.dept["MKT"])
    assert not grace.has_usable_password()
    assert created["Location"].endswith(f"/scim/v2/Users/{grace.pk}")
    assert body[ENTERPRISE] == {"department": "Marketing"}
    # Entra looks a person up before creating them, by userName, then by externalId.
    found = scim("GET", 'Users?filter=userName eq "Grace@Example.com"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == str(grace.pk)
    by_id = scim("GET", 'Users?filter=externalId eq "0a21f0f2-8d2a"').json()
    assert [r["userName"] for r in by_id["Resources"]] == ["grace@example.com"]
    assert scim("GET", 'Users?filter=externalId eq "0A21F0F2-8D2A"').json()["totalResults"] == 0
    event = AuditEvent.objects.get(verb=AuditVerb.USER_PROVISIONED)
    assert event.data["provider"] == "Entra ID" and event.to_state == "created"
    assert AuditEvent.objects.filter(verb=AuditVerb.USER_MOVED, object_id=str(grace.pk)).exists()


def test_entra_replaces_an_email_through_a_filter_and_a_family_name(scim, org):
    body = {"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "alice.a@example.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Archer"},
    ]}

    response = scim("PATCH", f"Users/{org.alice.pk}", body)

    assert response.status_code == 200, response.content
    org.alice.refresh_from_db()
    assert (org.alice.email, org.alice.last_name) == ("alice.a@example.com", "Archer")
    event = AuditEvent.objects.get(verb=AuditVerb.USER_PROVISIONED, object_id=str(org.alice.pk))
    # Alice was typed in SRM; from now on the directory keeps her record.
    assert event.data["fields"] == ["email", "last_name", "source"]


def test_entra_disables_a_head_with_open_approvals_they_move_on(scim, org, submit):
    Department.objects.filter(pk=org.dept["MKT"].pk).update(deputy=org.mia)
    request = submit(cost="1200")
    assert _active_step(request).accountable_head == org.hank

    # Entra sends "False" as a string in its disable request.
    response = scim("PATCH", f"Users/{org.hank.pk}", {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})

    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    org.hank.refresh_from_db()
    assert not org.hank.is_active
    assert _active_step(request).accountable_head == org.mia
    moved = AuditEvent.objects.get(verb=AuditVerb.STEP_REASSIGNED, correlation=request.reference)
    assert (moved.from_state, moved.to_state, moved.data["reason"]) == ("hank", "mia", "leaver")
    left = AuditEvent.objects.get(verb=AuditVerb.USER_DEACTIVATED)
    assert left.data == {"username": "hank", "source": "scim", "provider": "Entra ID"}
    assert Notification.objects.filter(recipient=org.mia, kind=NotificationKind.WAITING).exists()


def test_okta_deactivates_with_a_replace_without_path_to_the_head_above(scim, org, submit):
    request = submit(cost="1200")

    response = scim("PATCH", f"Users/{org.hank.pk}", {
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]})

    assert response.status_code == 200, response.content
    step = _active_step(request)
    # No delegate, no deputy: the head of the department above (Operations) takes over.
    assert step.accountable_head == org.dept["OPS"].head
    assert not User.objects.get(pk=org.hank.pk).is_active


def test_a_head_change_from_the_directory_moves_the_open_approvals(scim, org, submit):
    first, second = submit(cost="1200"), submit(cost="300")

    response = scim("PATCH", f"Groups/{org.dept['MKT'].pk}", {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": f"{DEPARTMENT}:head",
                        "value": {"value": str(org.bob.pk)}}]})

    assert response.status_code == 200, response.content
    assert response.json()[DEPARTMENT]["head"]["value"] == str(org.bob.pk)
    marketing = Department.objects.get(code="MKT")
    assert (marketing.head, marketing.head_source) == (org.bob, "scim")
    for request in (first, second):
        assert _active_step(request).accountable_head == org.bob
    moves = AuditEvent.objects.filter(verb=AuditVerb.STEP_REASSIGNED).order_by("id")
    assert sorted((e.correlation, e.from_state, e.to_state, e.data["reason"]) for e in moves) == \
        sorted([(first.reference, "hank", "bob", "head_changed"),
                (second.reference, "hank", "bob", "head_changed")])
    change = AuditEvent.objects.get(verb=AuditVerb.DEPARTMENT_HEAD_CHANGED)
    assert (change.from_state, change.to_state, change.data["source"]) == ("hank", "bob", "scim")
    told = Notification.objects.get(recipient=org.bob, kind=NotificationKind.WAITING)
    assert "2 approvals" in told.subject


def test_the_dry_run_lists_what_would_move_and_changes_nothing(scim, org, submit):
    request = submit(cost="1200")
    events, notices = AuditEvent.objects.count(), Notification.objects.count()

    response = scim("PATCH", f"Groups/{org.dept['MKT'].pk}", {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": f"{DEPARTMENT}:head",
                        "value": {"value": str(org.bob.pk)}}]}, x_srm_dry_run="1")

    assert response.status_code == 200, response.content
    preview = response.json()
    assert preview["dryRun"] is True and preview["status"] == 200
    assert preview["resource"][DEPARTMENT]["head"]["value"] == str(org.bob.pk)
    moves = [c for c in preview["changes"] if c["verb"] == "step.reassigned"]
    assert moves == [{"verb": "step.reassigned", "what": "Step moved to who is accountable now",
                      "object": moves[0]["object"], "from": "hank", "to": "bob",
                      "reference": request.reference, "step": "Head approval",
                      "reason": "head_changed"}]
    assert "department.head_changed" in [c["verb"] for c in preview["changes"]]
    # Nothing changed.
    assert Department.objects.get(code="MKT").head == org.hank
    assert _active_step(request).accountable_head == org.hank
    assert (AuditEvent.objects.count(), Notification.objects.count()) == (events, notices)


def test_entra_adds_and_removes_members_okta_removes_by_filter_and_renames(scim, org):
    legal = org.dept["LEG"]
    add = {"schemas": [PATCH_OP], "Operations": [
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": str(org.alice.pk)},
                                                   {"$ref": None, "value": str(org.bob.pk)}]}]}
    assert scim("PATCH", f"Groups/{legal.pk}", add).status_code == 200
    assert set(Membership.objects.filter(department=legal, source="scim")
               .values_list("user__username", flat=True)) == {"alice", "bob"}

    remove = {"schemas": [PATCH_OP], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": str(org.alice.pk)}]}]}
    assert scim("PATCH", f"Groups/{legal.pk}", remove).status_code == 200
    okta_remove = {"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": f'members[value eq "{org.bob.pk}"]'}]}
    assert scim("PATCH", f"Groups/{legal.pk}", okta_remove).status_code == 200
    okta_rename = {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"id": str(legal.pk), "displayName": "Legal & Compliance"}}]}
    renamed = scim("PATCH", f"Groups/{legal.pk}", okta_rename)

    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["displayName"] == "Legal & Compliance"
    assert not Membership.objects.filter(department=legal, user__in=[org.alice, org.bob]).exists()
    verbs = list(AuditEvent.objects.filter(verb__startswith="membership.").order_by("id")
                 .values_list("verb", "data__username"))
    assert verbs == [("membership.added", "alice"), ("membership.added", "bob"),
                     ("membership.removed", "alice"), ("membership.removed", "bob")]
    # Their home department stayed Marketing: membership of a group is not a move.
    assert User.objects.get(pk=org.alice.pk).department == org.dept["MKT"]
    listed = scim("GET", 'Groups?filter=displayName eq "Legal %26 Compliance"'
                         "&excludedAttributes=members").json()
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]


def test_a_new_department_group_with_its_head(scim, org):
    response = scim("POST", "Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", DEPARTMENT],
        "displayName": "Data Office", "externalId": "grp-42",
        "members": [{"value": str(org.carol.pk)}],
        DEPARTMENT: {"code": "DATA", "head": {"value": str(org.dave.pk)},
                     "parent": {"value": str(org.dept["OPS"].pk)}}})

    assert response.status_code == 201, response.content
    data = Department.objects.get(code="DATA")
    assert (data.name, data.head, data.parent, data.source, data.head_source) == (
        "Data Office", org.dave, org.dept["OPS"], "scim", "scim")
    assert list(data.memberships.values_list("user__username", flat=True)) == ["carol"]


@pytest.mark.parametrize("method,path,body,status,scim_type", [
    ("PATCH", "Users/{alice}", {"schemas": [PATCH_OP], "Operations": [{"op": "explode"}]},
     400, None),
    ("PATCH", "Users/{alice}", {"schemas": [PATCH_OP], "Operations": []}, 400, None),
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": f"{DEPARTMENT}:head", "value": {"value": "999999"}}]},
     400, "invalidValue"),
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "not-a-person"}]}]},
     400, "invalidValue"),
    # A department as a member: its id may be a person's too, who must not be added.
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "{ivan}", "type": "Group"}]}]},
     400, "invalidValue"),
    ("POST", "Users", _entra_user("Alice", "dup", email="a@example.com"), 409, "uniqueness"),
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": f"{DEPARTMENT}:code"}]}, 400, "mutability"),
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": f"{DEPARTMENT}:head"}]}, 400, "mutability"),
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": DEPARTMENT}]}, 400, "mutability"),
    ("PATCH", "Groups/{mkt}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": f"{DEPARTMENT}:head", "value": {"value": "{gone}"}}]},
     400, "invalidValue"),
    ("GET", 'Users?filter=bogus eq "x"', None, 400, "invalidFilter"),
    ("GET", "Users?filter=userName eq", None, 400, "invalidFilter"),
    ("GET", "Users/999999", None, 404, None),
])
def test_bad_input_is_a_scim_error_and_changes_nothing(scim, org, method, path, body, status,
                                                       scim_type):
    events = AuditEvent.objects.count()
    gone = User.objects.create(username="gone", is_active=False)
    path = path.format(alice=org.alice.pk, mkt=org.dept["MKT"].pk)
    members = Membership.objects.filter(department=org.dept["MKT"]).count()
    if body and "Operations" in body:
        for operation in body["Operations"]:
            if isinstance(operation.get("value"), dict) and operation["value"].get("value") == "{gone}":
                operation["value"] = {"value": str(gone.pk)}
            for item in operation.get("value") if isinstance(operation.get("value"), list) else []:
                item["value"] = item["value"].format(ivan=org.ivan.pk)

    response = scim(method, path, body)

    assert response.status_code == status, response.content
    error = response.json()
    assert error["schemas"] == [ERROR] and error["detail"]
    if scim_type:
        assert error["scimType"] == scim_type
    assert AuditEvent.objects.count() == events
    assert Department.objects.get(code="MKT").head == org.hank
    assert Department.objects.get(code="MKT").code == "MKT"
    assert Membership.objects.filter(department=org.dept["MKT"]).count() == members


def test_every_email_address_is_kept_as_sent_the_primary_one_is_the_address(scim, org):
    emails = [{"value": "grace@home.example", "type": "home"},
              {"value": "grace@example.com", "type": "work", "primary": True},
              {"value": "g.hopper@example.com", "type": "other", "display": "alias"}]
    created = scim("POST", "Users", {**_entra_user("grace", "g-1"), "emails": emails})

    assert created.status_code == 201, created.content
    grace = User.objects.get(username="grace")
    assert grace.email == "grace@example.com"
    assert created.json()["emails"] == emails
    assert scim("GET", f"Users/{grace.pk}").json()["emails"] == emails
    # The primary one changes: so does the address SRM writes to.
    response = scim("PATCH", f"Users/{grace.pk}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "emails", "value": [
            {"value": "grace@home.example", "type": "home", "primary": True}]}]})
    assert response.status_code == 200, response.content
    grace.refresh_from_db()
    assert grace.email == "grace@home.example"
    event = AuditEvent.objects.filter(verb=AuditVerb.USER_PROVISIONED,
                                      object_id=str(grace.pk)).latest("pk")
    assert (event.data["fields"], event.data["kept_as_sent"]) == (["email"], ["emails"])


def test_the_enterprise_extension_is_kept_as_sent(scim, org):
    manager = {"value": str(org.hank.pk),
               "$ref": f"http://testserver/scim/v2/Users/{org.hank.pk}"}
    enterprise = {"employeeNumber": "701984", "costCenter": "4130", "organization": "Contoso",
                  "division": "Sales", "department": "Marketing", "manager": manager}
    created = scim("POST", "Users", {**_entra_user("grace@example.com", "g-1"),
                                     ENTERPRISE: enterprise})

    assert created.status_code == 201, created.content
    grace = User.objects.get(username="grace@example.com")
    assert grace.department == org.dept["MKT"]
    assert scim("GET", f"Users/{grace.pk}").json()[ENTERPRISE] == enterprise
    # Moved in SRM since: the answer names the department SRM holds now.
    Membership.objects.filter(user=grace).delete()
    User.objects.filter(pk=grace.pk).update(department=org.dept["FIN"])
    assert scim("GET", f"Users/{grace.pk}").json()[ENTERPRISE] == {**enterprise,
                                                                   "department": "Finance"}


def test_entra_adds_and_removes_a_manager_by_id(scim, org):
    # Entra ID's "Add manager" and "Remove manager" requests (its SCIM validator's).
    added = scim("PATCH", f"Users/{org.alice.pk}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": str(org.hank.pk)}]})

    assert added.status_code == 200, added.content
    assert added.json()[ENTERPRISE]["manager"]["value"] == str(org.hank.pk)
    assert scim("GET", f"Users/{org.alice.pk}").json()[ENTERPRISE]["manager"] == {
        "value": str(org.hank.pk)}
    removed = scim("PATCH", f"Users/{org.alice.pk}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "Remove", "path": f"{ENTERPRISE}:manager"}]})
    assert removed.status_code == 200, removed.content
    assert "manager" not in removed.json()[ENTERPRISE]
    assert User.objects.get(pk=org.alice.pk).department == org.dept["MKT"]


def test_a_department_srm_does_not_know_is_kept_as_sent_and_moves_nobody(scim, org):
    created = scim("POST", "Users", _entra_user("new@example.com", "x", department="Nowhere"))

    assert created.status_code == 201, created.content
    assert created.json()[ENTERPRISE] == {"department": "Nowhere"}
    person = User.objects.get(username="new@example.com")
    assert person.department is None and not Membership.objects.filter(user=person).exists()
    event = AuditEvent.objects.get(verb=AuditVerb.USER_PROVISIONED, object_id=str(person.pk))
    assert event.data["department_unknown"] == "Nowhere"
    # alice, in Marketing, stays there when the directory names a department SRM lacks.
    response = scim("PATCH", f"Users/{org.alice.pk}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Growth"}]})
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=org.alice.pk).department == org.dept["MKT"]
    assert response.json()[ENTERPRISE] == {"department": "Growth"}
    assert not AuditEvent.objects.filter(verb=AuditVerb.USER_MOVED,
                                         object_id=str(org.alice.pk)).exists()


def test_a_body_that_is_not_json_is_a_scim_error(client, scim_secret, org):
    response = client.post("/scim/v2/Users", data=b"{nope", content_type="application/scim+json",
                           HTTP_AUTHORIZATION=f"Bearer {scim_secret}")
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidSyntax"
