"""Readiness is computed from the configuration, one rule at a time."""

import pytest
from django.urls import reverse

from accountability.selectors_plans import plan_is_ready, plan_readiness
from accountability.services.plans import workflow_keep, workflow_retire
from approvals.models import ApprovalPath
from governance.models import Department
from requests_app.models import CatalogItem
from tests.factories import make_plan, make_workflow


def failing(plan, rule=None):
    return [c for c in plan_readiness(plan) if not c.ok and (rule is None or c.rule == rule)]


def no_head(org, code):
    Department.objects.filter(code=code).update(head=None)


def test_a_well_configured_plan_is_ready_and_lists_every_condition_met(org):
    plan = make_plan(org, items=("laptop", "access"))

    conditions = plan_readiness(plan)

    assert plan_is_ready(plan)
    rules = {c.rule for c in conditions}
    assert {"item_published", "item_kpi", "item_path", "template_ola", "template_head",
            "department_head"} <= rules


def test_a_plan_without_items_is_not_ready(org):
    plan = make_plan(org, items=())
    [condition] = failing(plan)
    assert condition.rule == "items_in_scope"
    assert condition.fix_url == reverse("admin:accountability_changeplan_change", args=[plan.pk])


def test_an_unpublished_item_fails_with_a_link_to_the_item(org):
    CatalogItem.objects.filter(code="laptop").update(is_published=False)
    plan = make_plan(org)
    [condition] = failing(plan)
    assert condition.rule == "item_published"
    assert condition.message == "“New laptop” is not published."
    assert condition.fix_url == reverse("admin:requests_app_catalogitem_change",
                                        args=[org.item["laptop"].pk])


def test_an_item_without_an_outcome_kpi_fails(org):
    CatalogItem.objects.filter(code="laptop").update(is_published=False, kpi=None)
    plan = make_plan(org)
    assert [c.message for c in failing(plan, "item_kpi")] == ["“New laptop” has no outcome KPI."]


def test_an_item_whose_path_has_no_steps_fails(org):
    empty = ApprovalPath.objects.create(name="Nothing yet")
    CatalogItem.objects.filter(code="laptop").update(path=empty)
    plan = make_plan(org)
    [condition] = failing(plan, "item_path")
    assert "has no steps" in condition.message
    assert condition.fix_url == reverse("admin:approvals_approvalpath_change", args=[empty.pk])


def test_a_named_department_without_head_leaves_its_step_without_accountable_head(org, submit):
    submit(actor=org.alice)  # only Marketing requests laptops
    no_head(org, "FIN")
    plan = make_plan(org)
    [condition] = failing(plan)
    assert condition.rule == "template_head"
    assert "Finance approval" in condition.message and "Finance has no head" in condition.message
    assert condition.fix_url == reverse("admin:governance_department_change",
                                        args=[org.dept["FIN"].pk])


def test_a_fulfilling_department_without_head_fails_the_fulfilment_step(org, submit):
    submit(actor=org.alice)
    no_head(org, "IT")
    plan = make_plan(org)
    [condition] = failing(plan)
    assert "“Fulfilment”" in condition.message and "IT has no head" in condition.message


def test_requester_head_steps_need_heads_in_every_department_until_someone_requests(org, submit):
    no_head(org, "LEG")
    plan = make_plan(org)
    [condition] = failing(plan)
    assert "“Head approval”" in condition.message and "Legal has no head" in condition.message

    # Once the item has requests, only the departments that request it matter.
    submit(actor=org.alice)
    assert plan_is_ready(plan)


def test_a_department_owning_a_legacy_workflow_needs_a_head(org, submit):
    submit(actor=org.alice)  # only Marketing requests laptops
    plan = make_plan(org)
    make_workflow(org, plan, dept="HR", retire_in=30)
    no_head(org, "HR")
    [condition] = failing(plan)
    assert condition.rule == "department_head"
    assert condition.message == "HR has no head to be accountable."


def test_a_workflow_due_by_go_live_must_be_retired_or_kept_with_a_reason(org):
    plan = make_plan(org, go_live_in=14)
    due = make_workflow(org, plan, retire_in=10)
    later = make_workflow(org, plan, name="Team spreadsheet", retire_in=40)

    [condition] = failing(plan)
    assert condition.rule == "workflow_retired"
    assert "Laptop approvals by email" in condition.message
    assert condition.fix_url.endswith(f"#workflow-{due.pk}")
    assert "Team spreadsheet" not in " ".join(c.message for c in failing(plan))

    workflow_retire(actor=org.hank, workflow=due, evidence="Mailbox closed")
    assert plan_is_ready(plan)

    later.retire_by = plan.go_live_on
    later.save()
    assert not plan_is_ready(plan)
    workflow_keep(actor=org.olivia, workflow=later, reason="Audit needs it until year end")
    assert plan_is_ready(plan)


def test_readiness_reads_a_bounded_number_of_queries(org, django_assert_max_num_queries):
    plan = make_plan(org, items=("laptop", "access", "purchase", "software", "onboarding"))
    for i in range(5):
        make_workflow(org, plan, name=f"Sheet {i}")
    with django_assert_max_num_queries(6):
        conditions = plan_readiness(plan)
    assert len(conditions) > 20


@pytest.mark.parametrize("code", ["OPS", "MKT"])
def test_every_failing_condition_has_a_fix_link(org, code):
    no_head(org, code)
    plan = make_plan(org)
    assert failing(plan)
    assert all(c.fix_url for c in failing(plan))
