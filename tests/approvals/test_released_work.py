"""An agent who moves to another department or leaves while holding work they had taken on:
the work goes back to its department's queue, audited, and the department's head hears what
is back (and the agent, while they can still sign in, that it is no longer theirs) — whether
the move comes from an administrator, SCIM provisioning or the claims of a sign-in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accountability.models import Notification, NotificationKind
from approvals.choices import StepState
from approvals.selectors import capabilities
from approvals.services import step_approve, step_claim
from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.identity.oidc import person_from_claims
from governance.models import AuditEvent, Department, Membership, User
from governance.services.identity import user_sync_from_directory
from governance.services.org import user_deactivate, user_move_department
from tests.admin_forms import admin_user_change
from tests.scim import conftest as scim_fixtures

pytestmark = [pytest.mark.django_db]

# The SCIM client of tests/scim, as the identity provider "Entra ID".
scim, scim_secret = scim_fixtures.scim, scim_fixtures.scim_secret

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _claimed_by_ivan(org, submit):
    """An IT fulfilment step ivan (an IT agent) has taken on."""
    request = submit(item="access", cost="0", answers={"details": "VPN", "system": "VPN"})
    step_approve(actor=org.hank, step=request.steps.get(state=StepState.ACTIVE))
    step = request.steps.get(state=StepState.ACTIVE)
    step_claim(actor=org.ivan, step=step)
    return step


def _released(step, *, reason: str):
    step.refresh_from_db()
    assert step.assignee is None and step.state == StepState.ACTIVE
    event = AuditEvent.objects.get(verb=AuditVerb.STEP_RELEASED, object_id=str(step.pk))
    assert (event.from_state, event.correlation) == ("ivan", step.request.reference)
    assert (event.data["previous_assignee"], event.data["department"], event.data["reason"]) == (
        "ivan", "IT", reason)
    # Back in the queue: a colleague sees it there and takes it on.
    return event


def _notices(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.RELEASED))


def _told(org, step, *, ivan_too: bool):
    [head_notice] = _notices(org.irene)  # IT's head
    assert "back in the queue of IT" in head_notice.subject
    assert "Ivan Ivanov" in head_notice.subject
    assert step.request.reference in head_notice.body and step.name in head_notice.body
    assert head_notice.link == reverse("work:queue")
    mine = _notices(org.ivan)
    if ivan_too:
        assert len(mine) == 1
        assert mine[0].subject == "Your work in IT went back to its queue"
        assert step.request.reference in mine[0].body
    else:
        assert mine == []


def _change_in_admin(admin_client, user: User, **changes):
    response = admin_user_change(admin_client, user, **changes)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_an_agent_an_administrator_moves_gives_the_work_back_and_both_are_told(
        org, submit, admin_client):
    step = _claimed_by_ivan(org, submit)

    _change_in_admin(admin_client, org.ivan, department=org.dept["HR"].pk)

    assert User.objects.get(pk=org.ivan.pk).department == org.dept["HR"]
    moved = AuditEvent.objects.get(verb=AuditVerb.USER_MOVED, object_id=str(org.ivan.pk))
    assert (moved.from_state, moved.to_state, moved.actor.username) == ("IT", "HR", "admin")
    released = _released(step, reason="moved")
    assert released.actor.username == "admin"
    _told(org, step, ivan_too=True)
    # isaac, the other IT agent, finds it in the queue and takes it on.
    step_claim(actor=org.isaac, step=step)
    assert not capabilities(User.objects.get(pk=org.ivan.pk)).agent


def test_the_head_reads_what_is_back_on_the_notifications_page(org, submit, client):
    step = _claimed_by_ivan(org, submit)
    user_move_department(actor=org.admin, user=org.ivan, department=org.dept["HR"])

    client.force_login(org.irene)
    page = client.get(reverse("notifications:list")).content.decode()

    assert "1 work step of Ivan Ivanov back in the queue of IT" in page
    assert f'href="{reverse("work:queue")}"' in page
    client.force_login(org.isaac)  # the queue shows it to the other agents, nobody's
    queue = client.get(reverse("work:queue")).content.decode()
    assert step.request.reference in queue


def test_an_agent_who_leaves_gives_the_work_back_and_only_the_head_is_told(
        org, submit, admin_client):
    step = _claimed_by_ivan(org, submit)

    _change_in_admin(admin_client, org.ivan, is_active=None)

    assert not User.objects.get(pk=org.ivan.pk).is_active
    assert AuditEvent.objects.filter(verb=AuditVerb.USER_DEACTIVATED,
                                     object_id=str(org.ivan.pk)).count() == 1
    _released(step, reason="left")
    _told(org, step, ivan_too=False)  # ivan cannot sign in any more
    step_claim(actor=org.isaac, step=step)


def test_a_head_who_leaves_with_work_taken_on_tells_the_deputy(org, submit):
    """irene heads IT and, an agent too, had taken the step on herself: her deputy hears
    it is back."""
    Department.objects.filter(code="IT").update(deputy=org.isaac)
    Membership.objects.update_or_create(user=org.irene, department=org.dept["IT"],
                                        defaults={"role": MembershipRole.AGENT})
    request = submit(item="access", cost="0", answers={"details": "VPN", "system": "VPN"})
    step_approve(actor=org.hank, step=request.steps.get(state=StepState.ACTIVE))
    step = request.steps.get(state=StepState.ACTIVE)
    step_claim(actor=org.irene, step=step)

    user_deactivate(actor=org.admin, user=org.irene)

    step.refresh_from_db()
    assert step.assignee is None
    [notice] = _notices(org.isaac)
    assert "Irene Ito" in notice.subject and step.request.reference in notice.body
    assert _notices(org.irene) == []


def test_a_move_by_scim_gives_the_work_back_and_tells_the_head(org, submit, scim):
    step = _claimed_by_ivan(org, submit)

    response = scim("PATCH", f"Users/{org.ivan.pk}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "HR"}]})

    assert response.status_code == 200, response.content
    moved = AuditEvent.objects.get(verb=AuditVerb.USER_MOVED, object_id=str(org.ivan.pk))
    assert (moved.to_state, moved.data["source"], moved.data["provider"]) == (
        "HR", "scim", "Entra ID")
    released = _released(step, reason="moved")
    assert released.actor is None  # the directory's change, no person's
    _told(org, step, ivan_too=True)


def test_a_scim_leaver_gives_the_work_back(org, submit, scim):
    step = _claimed_by_ivan(org, submit)

    response = scim("PATCH", f"Users/{org.ivan.pk}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})

    assert response.status_code == 200, response.content
    _released(step, reason="left")
    _told(org, step, ivan_too=False)


def test_a_dry_run_releases_nothing_and_tells_nobody(org, submit, scim):
    step = _claimed_by_ivan(org, submit)

    preview = scim("PATCH", f"Users/{org.ivan.pk}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "HR"}]},
        x_srm_dry_run="1")

    assert preview.status_code == 200
    assert "step.released" in {c["verb"] for c in preview.json()["changes"]}
    step.refresh_from_db()
    assert step.assignee == org.ivan
    assert not Notification.objects.filter(kind=NotificationKind.RELEASED).exists()


def test_a_sign_in_whose_claims_name_another_department_gives_the_work_back(org, submit):
    """The claims of an OpenID Connect sign-in, mapped as the sign-in's backend maps them
    (``OIDC_CLAIM_*``), after the ID token was verified."""
    step = _claimed_by_ivan(org, submit)

    user = user_sync_from_directory(person=person_from_claims({
        "sub": "ivan-sub", "preferred_username": "ivan", "email": "ivan@example.com",
        "given_name": "Ivan", "family_name": "Ivanov", "department": "hr"}))

    assert user.department == org.dept["HR"]
    moved = AuditEvent.objects.get(verb=AuditVerb.USER_MOVED, object_id=str(org.ivan.pk))
    assert (moved.from_state, moved.to_state, moved.data["source"]) == ("IT", "HR",
                                                                         IdentitySource.OIDC)
    _released(step, reason="moved")
    _told(org, step, ivan_too=True)
