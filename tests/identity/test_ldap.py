"""Signing in against a real LDAP directory (Debian's slapd with tests/identity/
directory.ldif): the directory's password, its groups as SRM roles, its department attribute,
and the accounts it (or SRM) has disabled."""

from __future__ import annotations

import re
import time

import pytest
from django.test import override_settings

from accountability.models import Notification, NotificationKind
from approvals.choices import StepState
from approvals.services import step_approve, step_claim
from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.models import AuditEvent, Membership, User
from governance.services.org import user_deactivate, user_move_department
from tests.identity.conftest import free_port

pytestmark = pytest.mark.django_db

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _signed_in_as(client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


def test_a_person_signs_in_with_their_directory_password(org, client, ldap_configured):
    response = _sign_in(client, "alice", "alice-secret")

    assert response.status_code == 302
    assert client.get("/portal/requests/").status_code == 200
    alice = _signed_in_as(client)
    assert alice == org.alice
    # ...and SRM now knows her as the directory describes her
    assert alice.source == IdentitySource.LDAP
    assert UUID.match(alice.external_id)  # the entry's entryUUID
    assert (alice.email, alice.first_name, alice.last_name) == (
        "alice.adams@example.com", "Alice", "Adams")
    assert alice.department.code == "MKT"
    assert alice.manager == org.hank


def test_the_demo_password_is_not_the_directory_password(org, client, ldap_configured):
    # alice's local password is "demo"; she has been taken over by the directory on a
    # previous sign-in, so only the directory's password counts
    assert _sign_in(client, "alice", "alice-secret").status_code == 302
    client.logout()

    refused = _sign_in(client, "alice", "demo")

    assert refused.status_code == 200 and _signed_in_as(client) is None
    assert b"didn&#x27;t match" in refused.content or b"didn't match" in refused.content


def test_a_wrong_password_is_refused(org, client, ldap_configured):
    refused = _sign_in(client, "nina", "wrong")
    assert refused.status_code == 200 and _signed_in_as(client) is None
    assert not User.objects.filter(username="nina").exists()


def test_groups_make_ops_leaders_approvers_and_agents(org, client, ldap_configured):
    # olivia is in srm-ops-leaders, felix in srm-approvers, nina (new to SRM) in srm-agents;
    # hugo, an agent in SRM, is in none of the groups
    for username in ("olivia", "felix", "nina", "hugo"):
        assert _sign_in(client, username, f"{username}-secret").status_code == 302
        client.logout()

    olivia, felix, nina, hugo = (User.objects.get(username=u)
                                 for u in ("olivia", "felix", "nina", "hugo"))
    assert olivia.is_ops_leader
    assert not felix.is_ops_leader
    assert Membership.objects.get(user=felix, department=felix.department).role == \
        MembershipRole.APPROVER
    assert nina.department.code == "IT" and nina.manager == org.irene
    assert not nina.has_usable_password()
    assert Membership.objects.get(user=nina, department=nina.department).role == \
        MembershipRole.AGENT
    # the directory wins: hugo is a plain member now
    assert Membership.objects.get(user=hugo, department=hugo.department).role == \
        MembershipRole.MEMBER


def test_the_department_attribute_moves_a_person_with_an_audit_event(org, client,
                                                                     ldap_configured):
    # bob is in Marketing in SRM; the directory says Finance
    assert org.bob.department.code == "MKT"

    assert _sign_in(client, "bob", "bob-secret").status_code == 302

    bob = User.objects.get(pk=org.bob.pk)
    assert bob.department.code == "FIN"
    moved = AuditEvent.objects.get(verb=AuditVerb.USER_MOVED, object_id=str(bob.pk))
    assert (moved.from_state, moved.to_state, moved.data["source"]) == ("MKT", "FIN", "ldap")


def test_a_sign_in_that_moves_an_agent_gives_their_work_back_and_tells_the_head(
        org, client, ldap_configured, submit):
    # bob is an agent of IT in SRM and has taken an IT step on; the directory says Finance
    user_move_department(actor=org.admin, user=org.bob, department=org.dept["IT"])
    Membership.objects.filter(user=org.bob, department=org.dept["IT"]).update(
        role=MembershipRole.AGENT)
    request = submit(item="access", cost="0", answers={"details": "VPN", "system": "VPN"})
    step_approve(actor=org.hank, step=request.steps.get(state=StepState.ACTIVE))
    step = request.steps.get(state=StepState.ACTIVE)
    step_claim(actor=org.bob, step=step)

    assert _sign_in(client, "bob", "bob-secret").status_code == 302

    step.refresh_from_db()
    assert step.assignee is None  # back in IT's queue
    moved = AuditEvent.objects.filter(verb=AuditVerb.USER_MOVED,
                                      object_id=str(org.bob.pk)).latest("pk")
    assert (moved.from_state, moved.to_state, moved.data["source"]) == ("IT", "FIN", "ldap")
    released = AuditEvent.objects.get(verb=AuditVerb.STEP_RELEASED, object_id=str(step.pk))
    assert (released.data["previous_assignee"], released.data["reason"]) == ("bob", "moved")
    [to_head] = Notification.objects.filter(recipient=org.irene,
                                            kind=NotificationKind.RELEASED)
    assert request.reference in to_head.body
    assert Notification.objects.filter(recipient=org.bob, kind=NotificationKind.RELEASED,
                                       subject="Your work in IT went back to its queue").exists()


def test_a_disabled_account_is_refused(org, client, ldap_configured):
    # dora's password is right, but her account is disabled in the directory
    refused = _sign_in(client, "dora", "dora-secret")

    assert refused.status_code == 200 and _signed_in_as(client) is None
    assert not User.objects.filter(username="dora").exists()


def test_a_person_who_left_is_refused_even_with_the_directory_password(org, client,
                                                                      ldap_configured):
    user_deactivate(actor=None, user=org.alice)

    refused = _sign_in(client, "alice", "alice-secret")

    assert refused.status_code == 200 and _signed_in_as(client) is None
    assert not User.objects.get(pk=org.alice.pk).is_active


def test_with_local_passwords_off_the_directory_still_signs_people_in(org, client,
                                                                     ldap_configured):
    with override_settings(SRM_LOCAL_PASSWORDS=False):
        page = client.get("/accounts/login/")
        assert b"Administrator sign-in" not in page.content  # the form is for everyone
        # erin is not in the directory: her local password no longer works
        assert _sign_in(client, "erin", "demo").status_code == 200
        assert _signed_in_as(client) is None
        assert _sign_in(client, "alice", "alice-secret").status_code == 302


def test_a_directory_that_does_not_answer_refuses_the_sign_in_in_time(org, client,
                                                                     ldap_settings_for):
    with ldap_settings_for(f"ldap://127.0.0.1:{free_port()}", LDAP_TIMEOUT="2"):
        started = time.monotonic()
        refused = _sign_in(client, "nina", "nina-secret")

    assert time.monotonic() - started < 5
    assert refused.status_code == 200 and _signed_in_as(client) is None
