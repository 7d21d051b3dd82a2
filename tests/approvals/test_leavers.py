"""A person leaves (their user is deactivated): what was accountable to them goes to their
active delegate, else their department's deputy, else the parent department's head; each
move audited, their delegations ended. Nothing waits for someone who cannot sign in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.choices import StepState
from approvals.models import Delegation, Step
from approvals.selectors import waiting_for
from approvals.services import delegation_create, step_approve
from governance.choices import AuditVerb
from governance.errors import ValidationFailed
from governance.models import AuditEvent, Department, User
from governance.services.org import user_deactivate
from tests.admin_forms import admin_user_change

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def active(request) -> Step:
    return request.steps.select_related("request").get(state=StepState.ACTIVE)


def _moves(request) -> list[tuple[str, str, str]]:
    return [(e.from_state, e.to_state, e.data["reason"]) for e in AuditEvent.objects.filter(
        verb=AuditVerb.STEP_REASSIGNED, correlation=request.reference)]


def _deputy(department: Department, user: User) -> None:
    Department.objects.filter(pk=department.pk).update(deputy=user)


def test_a_leaver_s_approvals_go_to_their_active_delegate(org, submit):
    _deputy(org.dept["MKT"], org.mia)  # the delegate comes first
    today = timezone.localdate()
    delegation = delegation_create(actor=org.hank, delegate=org.bob, starts_on=today,
                                   ends_on=today + timedelta(days=7))
    request = submit(cost="1200")

    user_deactivate(actor=org.admin, user=org.hank)

    step = active(request)
    assert step.accountable_head == org.bob
    assert _moves(request) == [("hank", "bob", "leaver")]
    assert {s.pk for s in waiting_for(org.bob)} == {step.pk}
    # The delegation ended with the person who gave it: bob decides as the accountable head.
    delegation.refresh_from_db()
    assert delegation.ended_at is not None
    assert AuditEvent.objects.filter(verb=AuditVerb.DELEGATION_ENDED,
                                     object_id=str(delegation.pk)).exists()
    assert not Delegation.objects.active().filter(delegator=org.hank).exists()
    decided = step_approve(actor=org.bob, step=step)
    assert (decided.decided_by, decided.acted_for) == (org.bob, None)


def test_without_a_delegate_they_go_to_the_deputy(org, submit):
    _deputy(org.dept["MKT"], org.mia)
    request = submit(cost="1200")

    user_deactivate(actor=org.admin, user=org.hank)

    assert active(request).accountable_head == org.mia
    assert _moves(request) == [("hank", "mia", "leaver")]
    step_approve(actor=org.mia, step=active(request))


def test_without_a_deputy_they_go_to_the_parent_department_s_head(org, submit):
    request = submit(cost="1200")

    user_deactivate(actor=org.admin, user=org.hank)

    step = active(request)
    assert (step.accountable_department.code, step.accountable_head) == ("MKT", org.oscar)
    assert _moves(request) == [("hank", "oscar", "leaver")]
    step_approve(actor=org.oscar, step=step)
    # Later requests of the department find the same stand-in at submission.
    later = submit(cost="1200")
    assert active(later).accountable_head == org.oscar


def test_the_pending_steps_of_a_leaver_move_too(org, submit):
    """fiona (Finance) leaves while a large request still waits for its head approval: its
    finance step, not yet active, goes to her stand-in (felix is only an approver: Finance's
    parent, Operations, has oscar)."""
    request = submit(cost="7500")

    user_deactivate(actor=org.admin, user=org.fiona)

    assert request.steps.get(name="Finance approval").accountable_head == org.oscar
    assert AuditEvent.objects.filter(verb=AuditVerb.USER_DEACTIVATED,
                                     object_id=str(org.fiona.pk)).count() == 1


def test_a_leaver_nobody_can_stand_in_for_is_refused_and_nothing_changes(org, submit):
    request = submit(actor=org.hank, cost="1200")  # waits for oscar, head of Operations
    assert active(request).accountable_head == org.oscar

    with pytest.raises(ValidationFailed) as refused:
        user_deactivate(actor=org.admin, user=org.oscar)
    assert refused.value.code == "no_successor"
    assert User.objects.get(pk=org.oscar.pk).is_active
    assert active(request).accountable_head == org.oscar
    assert not AuditEvent.objects.filter(verb=AuditVerb.USER_DEACTIVATED).exists()


def _deactivate_in_admin(admin_client, user: User):
    return admin_user_change(admin_client, user, is_active=None)


def test_the_admin_deactivates_through_the_service(org, submit, admin_client):
    _deputy(org.dept["MKT"], org.mia)
    request = submit(cost="1200")

    response = _deactivate_in_admin(admin_client, org.hank)
    assert response.status_code == 302, response.context["adminform"].form.errors

    assert not User.objects.get(pk=org.hank.pk).is_active
    assert active(request).accountable_head == org.mia
    assert AuditEvent.objects.filter(verb=AuditVerb.USER_DEACTIVATED).count() == 1


def test_the_admin_shows_a_refusal_and_changes_nothing(org, submit, admin_client):
    request = submit(actor=org.hank, cost="1200")

    response = _deactivate_in_admin(admin_client, org.oscar)
    assert response.status_code == 302
    page = admin_client.get(response.url).content.decode()
    assert "Nobody can take over" in page

    assert User.objects.get(pk=org.oscar.pk).is_active
    assert active(request).accountable_head == org.oscar
