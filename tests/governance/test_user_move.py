"""A person moves to another department: their home department and memberships follow, what
they had taken on in the old department's queue goes back to it, all audited in one
transaction."""

from __future__ import annotations

import pytest

from approvals.choices import StepState
from approvals.services import step_approve, step_claim
from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.errors import ValidationFailed
from governance.models import AuditEvent, Membership
from governance.services.org import department_set_head, user_deactivate, user_move_department

pytestmark = [pytest.mark.django_db]


def _work_step(org, submit):
    request = submit(item="access", cost="0", answers={"details": "VPN", "system": "VPN"})
    step_approve(actor=org.hank, step=request.steps.get(state=StepState.ACTIVE))
    return request.steps.get(state=StepState.ACTIVE)


def test_an_agent_who_moves_gives_back_what_they_had_taken_on(org, submit):
    step = _work_step(org, submit)
    step_claim(actor=org.ivan, step=step)

    user_move_department(actor=org.admin, user=org.ivan, department=org.dept["HR"],
                         source=IdentitySource.SCIM, provider="Entra ID")

    org.ivan.refresh_from_db()
    step.refresh_from_db()
    assert org.ivan.department == org.dept["HR"]
    assert list(Membership.objects.filter(user=org.ivan).values_list(
        "department__code", "role", "source")) == [("HR", MembershipRole.MEMBER, "scim")]
    assert step.assignee is None and step.state == StepState.ACTIVE
    moved = AuditEvent.objects.get(verb=AuditVerb.USER_MOVED)
    assert (moved.from_state, moved.to_state) == ("IT", "HR")
    assert moved.data == {"username": "ivan", "roles_ended": ["agent"], "source": "scim",
                          "provider": "Entra ID"}
    released = AuditEvent.objects.get(verb=AuditVerb.STEP_RELEASED)
    assert released.correlation == step.request.reference
    assert released.data["previous_assignee"] == "ivan"


def test_a_move_to_the_same_department_changes_nothing(org):
    user_move_department(actor=org.admin, user=org.alice, department=org.dept["MKT"])
    assert not AuditEvent.objects.filter(verb=AuditVerb.USER_MOVED).exists()


def test_a_leaver_cannot_move(org):
    user_deactivate(actor=org.admin, user=org.bob)
    with pytest.raises(ValidationFailed):
        user_move_department(actor=org.admin, user=org.bob, department=org.dept["HR"])
    org.bob.refresh_from_db()
    assert org.bob.department == org.dept["MKT"]


def test_a_head_named_by_the_directory_is_marked_so(org):
    department_set_head(actor=None, department=org.dept["MKT"], head=org.bob,
                        source=IdentitySource.SCIM, provider="Okta")
    org.dept["MKT"].refresh_from_db()
    assert org.dept["MKT"].head_source == "scim"
    event = AuditEvent.objects.get(verb=AuditVerb.DEPARTMENT_HEAD_CHANGED)
    assert event.data["provider"] == "Okta"
