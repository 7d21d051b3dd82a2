"""Who decides is the organisation as it is when the decision is made.

Marketing gets a new head (bob) and its old head (hank) moves to Finance as its head. From
that moment bob decides Marketing's open approvals; hank gets 403 ``not_decider`` on them,
loses them from his inbox and loses the internal notes he could read only as Marketing's
head. Every moved step is in the audit trail, and bob is told what now waits for him.
"""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accountability.models import Notification, NotificationKind
from approvals.choices import StepState
from approvals.models import Step
from approvals.selectors import waiting_for
from approvals.services import step_approve
from governance.choices import AuditVerb
from governance.errors import NotAllowed, ValidationFailed
from governance.models import AuditEvent, Department, Membership, User
from governance.services.org import department_set_head
from requests_app.models import Comment, ServiceRequest
from requests_app.services_conversation import comment_add
from tests.factories import api_token

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def active(request) -> Step:
    return request.steps.select_related("request").get(state=StepState.ACTIVE)


def _api(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.fixture
def reorganised(org, submit):
    """Two of alice's laptops wait for hank: ``small`` (1,200: finance skipped) and ``large``
    (7,500: finance next, with fiona). Then hank's membership moves to Finance, bob becomes
    Marketing's head and hank Finance's."""
    small, large = submit(cost="1200"), submit(cost="7500")
    assert {s.pk for s in waiting_for(org.hank)} == {active(small).pk, active(large).pk}
    Membership.objects.filter(user=org.hank).update(department=org.dept["FIN"])
    User.objects.filter(pk=org.hank.pk).update(department=org.dept["FIN"])
    # Until the change, hank reads small's internal notes only as Marketing's head.
    assert ServiceRequest.objects.restrict(org.hank, "internal").filter(pk=small.pk).exists()
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob)
    department_set_head(actor=org.admin, department=org.dept["FIN"], head=org.hank)
    return small, large


def test_the_new_head_decides_and_the_old_head_gets_403(org, reorganised):
    small, large = reorganised

    with pytest.raises(NotAllowed) as refused:
        step_approve(actor=org.hank, step=active(small))
    assert refused.value.code == "not_decider"
    # Through the API too (hank, now Finance's head, sees large through its finance step).
    response = _api(org.hank).post(f"/api/v1/steps/{active(large).pk}/approve/", {},
                                   format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_decider"

    step = step_approve(actor=org.bob, step=active(small), comment="Go ahead")
    assert (step.state, step.decided_by, step.acted_for) == (StepState.APPROVED, org.bob, None)


def test_the_inbox_follows_the_organisation(org, reorganised):
    small, large = reorganised
    heads = {active(small).pk, active(large).pk}

    assert not heads & {s.pk for s in waiting_for(org.hank)}
    assert {s.pk for s in waiting_for(org.bob)} == heads
    assert not _api(org.hank).get("/api/v1/steps/?role=decide").json()["results"]
    assert {s["id"] for s in _api(org.bob).get("/api/v1/steps/?role=decide").json()["results"]} \
        == heads
    # The steps name their accountable head as it is now; so does the finance step waiting
    # further down large's path.
    assert {s.accountable_head for s in Step.objects.filter(pk__in=heads)} == {org.bob}
    assert large.steps.get(name="Finance approval").accountable_head == org.hank
    # bob is told; hank's "waiting for your decision" notices about them are done.
    told = Notification.objects.filter(recipient=org.bob, kind=NotificationKind.WAITING)
    assert told.count() == 1
    assert small.reference in told.get().body and large.reference in told.get().body
    assert not Notification.objects.filter(recipient=org.hank, kind=NotificationKind.WAITING,
                                           read_at__isnull=True).exists()


def test_the_old_head_loses_the_internal_notes_of_the_role(org, reorganised):
    small, _large = reorganised
    note = comment_add(actor=org.ivan, request=small, body="Budget code is wrong.", internal=True)

    assert not ServiceRequest.objects.restrict(org.hank, "internal").filter(pk=small.pk).exists()
    assert note not in Comment.objects.restrict(org.hank)
    assert ServiceRequest.objects.restrict(org.bob, "internal").filter(pk=small.pk).exists()
    assert note in Comment.objects.restrict(org.bob)


def test_each_moved_step_is_audited(org, reorganised):
    small, large = reorganised

    changes = AuditEvent.objects.filter(verb=AuditVerb.DEPARTMENT_HEAD_CHANGED).order_by("id")
    assert [(e.object_repr, e.from_state, e.to_state) for e in changes] == [
        ("Marketing", "hank", "bob"), ("Finance", "fiona", "hank")]
    moved = AuditEvent.objects.filter(verb=AuditVerb.STEP_REASSIGNED).order_by("id")
    assert sorted((e.correlation, e.data["step"], e.from_state, e.to_state) for e in moved) == sorted([
        (small.reference, "Head approval", "hank", "bob"),
        (large.reference, "Head approval", "hank", "bob"),
        (large.reference, "Finance approval", "fiona", "hank"),
    ])
    assert {e.actor for e in moved} == {org.admin}
    assert all(e.data["reason"] == "head_changed" for e in moved)


def test_a_head_who_cannot_sign_in_is_refused(org, submit):
    request = submit(cost="1200")
    User.objects.filter(pk=org.bob.pk).update(is_active=False)
    org.bob.refresh_from_db()

    with pytest.raises(ValidationFailed) as refused:
        department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob)
    assert refused.value.code == "head_inactive"
    assert Department.objects.get(pk=org.dept["MKT"].pk).head == org.hank
    assert active(request).accountable_head == org.hank


def test_the_new_head_own_open_request_goes_to_the_parent_head(org, submit):
    """bob's own request waits in Marketing when he becomes its head: nobody decides their
    own request, so it goes up to the parent department's head (oscar, Operations)."""
    request = submit(actor=org.bob, cost="1200")
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob)

    step = active(request)
    assert (step.accountable_department.code, step.accountable_head) == ("OPS", org.oscar)
    step_approve(actor=org.oscar, step=step)


def test_a_new_head_already_on_the_request_does_not_get_a_second_approval(org, submit):
    """hank becomes Finance's head while a large request waits for his head approval: its
    finance step does not go to him too (nobody decides two approval steps of one request)
    but to who stands in for Finance — no deputy, so the head above, oscar."""
    waiting = submit(cost="7500")
    decided = submit(cost="7500")
    step_approve(actor=org.hank, step=active(decided))  # finance is active now

    department_set_head(actor=org.admin, department=org.dept["FIN"], head=org.hank)

    for request in (waiting, decided):
        assert request.steps.get(name="Finance approval").accountable_head == org.oscar
    assert active(waiting).accountable_head == org.hank
    step_approve(actor=org.oscar, step=active(decided))


# --- The admin's department page goes through the same service ----------------------------
def _form_data(response, **changes) -> dict:
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for bound in form:
            if bound.field.show_hidden_initial:
                data[bound.html_initial_name] = bound.initial
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = value.strftime("%H:%M") if isinstance(value, time) else value
    data.update(changes)
    return data


def test_the_admin_changes_a_head_through_the_service(org, submit, admin_client):
    request = submit(cost="1200")
    url = reverse("admin:governance_department_change", args=[org.dept["MKT"].pk])

    response = admin_client.post(url, _form_data(admin_client.get(url), head=org.bob.pk))
    assert response.status_code == 302, response.context["adminform"].form.errors

    assert active(request).accountable_head == org.bob
    assert AuditEvent.objects.filter(verb=AuditVerb.DEPARTMENT_HEAD_CHANGED).count() == 1
    assert AuditEvent.objects.filter(verb=AuditVerb.STEP_REASSIGNED,
                                     correlation=request.reference).count() == 1
    with pytest.raises(NotAllowed):
        step_approve(actor=org.hank, step=active(request))


def test_the_admin_shows_a_refused_head_change_and_changes_nothing(org, submit, admin_client):
    """hank would head Finance while a request waits for his head approval and Finance has
    no deputy and Operations (above) no head: its finance step has nobody to go to."""
    request = submit(cost="7500")
    Department.objects.filter(code="OPS").update(head=None)
    url = reverse("admin:governance_department_change", args=[org.dept["FIN"].pk])

    response = admin_client.post(url, _form_data(admin_client.get(url), head=org.hank.pk))
    assert response.status_code == 302
    assert "nobody decides two approval steps" in admin_client.get(response.url).content.decode()

    assert Department.objects.get(pk=org.dept["FIN"].pk).head == org.fiona
    assert request.steps.get(name="Finance approval").accountable_head == org.fiona
    assert not AuditEvent.objects.filter(verb=AuditVerb.DEPARTMENT_HEAD_CHANGED).exists()
