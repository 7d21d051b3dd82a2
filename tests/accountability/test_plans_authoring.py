"""Change plans are started and edited in the app by ops leaders, with the service's rules."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.choices import PlanStatus, WorkflowDecision
from accountability.models import ChangePlan, LegacyWorkflow
from accountability.services.plans import plan_create, plan_update, workflow_add
from governance.choices import AuditVerb
from governance.errors import Conflict, NotAllowed, ValidationFailed
from governance.models import AuditEvent
from tests.factories import make_plan, make_workflow

TODAY = timezone.localdate


def _post_plan(client, url, org, **overrides):
    data = {"name": "Phones only through SRM", "description": "No more phone orders by e-mail.",
            "sponsor": org.olivia.pk, "items": [org.item["laptop"].pk],
            "go_live_on": (TODAY() + timedelta(days=14)).isoformat(),
            "value_target_on": (TODAY() + timedelta(days=100)).isoformat()}
    data.update(overrides)
    return client.post(url, data)


def test_an_ops_leader_creates_a_plan_then_names_its_workflows_on_the_page(client, org):
    client.force_login(org.olivia)
    page = client.get(reverse("plans:list")).content.decode()
    assert f'href="{reverse("plans:create")}"' in page

    response = _post_plan(client, reverse("plans:create"), org)
    plan = ChangePlan.objects.get(name="Phones only through SRM")
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:workflow_add", args=[plan.pk])
    assert plan.sponsor == org.olivia and plan.status == PlanStatus.PLANNING
    assert list(plan.items.all()) == [org.item["laptop"]]

    response = client.post(reverse("plans:workflow_add", args=[plan.pk]), {
        "name": "Phone orders by e-mail", "channel": "email",
        "owning_department": org.dept["IT"].pk, "replaced_by": org.item["laptop"].pk,
        "retire_by": (TODAY() + timedelta(days=30)).isoformat()})
    workflow = LegacyWorkflow.objects.get(plan=plan)
    assert response.status_code == 302
    assert workflow.owning_department == org.dept["IT"]
    assert workflow.decision == WorkflowDecision.RETIRE
    verbs = list(AuditEvent.objects.filter(correlation=f"plan:{plan.pk}")
                 .order_by("pk").values_list("verb", flat=True))
    assert verbs == [AuditVerb.PLAN_CREATED, AuditVerb.WORKFLOW_ADDED]
    detail = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "Phone orders by e-mail" in detail
    assert f'href="{reverse("plans:edit", args=[plan.pk])}"' in detail


def test_the_form_keeps_what_was_typed_and_names_the_field_at_fault(client, org):
    client.force_login(org.olivia)
    response = _post_plan(client, reverse("plans:create"), org,
                          value_target_on=(TODAY() - timedelta(days=1)).isoformat())
    page = response.content.decode()
    assert response.status_code == 200
    assert "On or after the go-live date." in page
    assert 'value="Phones only through SRM"' in page
    # The date inputs carry ISO dates, which is what a browser's date picker shows.
    assert f'value="{(TODAY() + timedelta(days=14)).isoformat()}"' in page
    assert not ChangePlan.objects.exists()
    assert _post_plan(client, reverse("plans:create"), org, name="  ").status_code == 200
    assert not ChangePlan.objects.exists()


def test_only_ops_leaders_start_plans(client, org):
    client.force_login(org.hank)
    assert client.get(reverse("plans:create")).status_code == 403
    assert _post_plan(client, reverse("plans:create"), org).status_code == 403
    assert not ChangePlan.objects.exists()
    with pytest.raises(NotAllowed):
        plan_create(actor=org.hank, name="X", sponsor=org.hank, go_live_on=TODAY(),
                    value_target_on=TODAY())


def test_the_sponsor_edits_their_plan_and_one_event_lists_what_changed(client, org):
    plan = make_plan(org, sponsor=org.irene)
    client.force_login(org.irene)
    response = client.get(reverse("plans:edit", args=[plan.pk]))
    assert response.status_code == 200
    assert f'value="{plan.go_live_on.isoformat()}"' in response.content.decode()
    response = _post_plan(client, reverse("plans:edit", args=[plan.pk]), org,
                          name="Laptops only through SRM", sponsor=org.irene.pk,
                          go_live_on=plan.go_live_on.isoformat(),
                          value_target_on=plan.value_target_on.isoformat(),
                          items=[org.item["laptop"].pk, org.item["access"].pk])
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.name == "Laptops only through SRM"
    event = AuditEvent.objects.get(verb=AuditVerb.PLAN_CHANGED)
    assert set(event.data["changed"]) == {"name", "description", "items"}
    # Saving again without a change writes nothing.
    _post_plan(client, reverse("plans:edit", args=[plan.pk]), org,
               name="Laptops only through SRM", sponsor=org.irene.pk,
               go_live_on=plan.go_live_on.isoformat(),
               value_target_on=plan.value_target_on.isoformat(),
               items=[org.item["laptop"].pk, org.item["access"].pk])
    assert AuditEvent.objects.filter(verb=AuditVerb.PLAN_CHANGED).count() == 1


def test_someone_who_may_not_change_the_plan_gets_404_and_nothing_changes(client, org):
    plan = make_plan(org, sponsor=org.irene)
    workflow = make_workflow(org, plan, dept="MKT")
    client.force_login(org.hank)  # sees the plan (owning head of a workflow), may not edit it
    assert client.get(reverse("plans:detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("plans:edit", args=[plan.pk])).status_code == 404
    assert _post_plan(client, reverse("plans:edit", args=[plan.pk]), org).status_code == 404
    assert client.get(reverse("plans:workflow_edit", args=[workflow.pk])).status_code == 403
    client.force_login(org.alice)
    assert client.get(reverse("plans:workflow_edit", args=[workflow.pk])).status_code == 404
    plan.refresh_from_db()
    assert plan.name == "Laptops through SRM"


def test_a_live_plan_keeps_its_go_live_date_and_a_closed_plan_no_longer_changes(org):
    plan = make_plan(org, sponsor=org.irene, status=PlanStatus.LIVE)
    common = {"actor": org.olivia, "plan": plan, "name": plan.name, "sponsor": plan.sponsor,
              "value_target_on": plan.value_target_on}
    with pytest.raises(Conflict) as refused:
        plan_update(**common, go_live_on=plan.go_live_on + timedelta(days=1))
    assert refused.value.field_errors == {"go_live_on": ["The plan is already live."]}
    plan_update(**common, go_live_on=plan.go_live_on, description="Now live.")
    plan.status = PlanStatus.ABANDONED
    plan.save()
    with pytest.raises(Conflict):
        plan_update(**common, go_live_on=plan.go_live_on, description="Again.")
    with pytest.raises(Conflict):
        workflow_add(actor=org.olivia, plan=plan, name="Sheet", channel="spreadsheet",
                     owning_department=org.dept["IT"], retire_by=TODAY())


def test_a_workflow_is_replaced_only_by_an_item_of_its_plan(org):
    plan = make_plan(org, items=("laptop",))
    with pytest.raises(ValidationFailed) as refused:
        workflow_add(actor=org.olivia, plan=plan, name="Access by chat", channel="chat",
                     owning_department=org.dept["IT"], retire_by=TODAY(),
                     replaced_by=org.item["access"])
    assert "replaced_by" in refused.value.field_errors
    with pytest.raises(ValidationFailed):
        workflow_add(actor=org.olivia, plan=plan, name="Access by chat", channel="carrier pigeon",
                     owning_department=org.dept["IT"], retire_by=TODAY())
    assert not LegacyWorkflow.objects.exists()


def test_a_retired_workflow_is_no_longer_edited(client, org):
    plan = make_plan(org)
    workflow = make_workflow(org, plan, retired_on=TODAY(), evidence="Mailbox closed.")
    client.force_login(org.olivia)
    response = client.post(reverse("plans:workflow_edit", args=[workflow.pk]), {
        "name": "Renamed", "channel": "email", "owning_department": org.dept["MKT"].pk,
        "retire_by": TODAY().isoformat()})
    assert response.status_code == 200
    assert "already retired" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.name == "Laptop approvals by email"
