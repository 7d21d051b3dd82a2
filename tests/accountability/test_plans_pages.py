"""The change plan pages as people use them."""

import csv

import pytest
from django.urls import reverse

from accountability.choices import ImportStatus, PlanStatus
from accountability.models import ImportJob
from accountability.services.legacy_import import import_job_run
from approvals.choices import StepState
from governance.models import AuditEvent
from requests_app.choices import Source
from requests_app.models import ServiceRequest
from tests.factories import make_plan, make_workflow


@pytest.fixture
def plan(org):
    plan = make_plan(org, items=("laptop", "access"), sponsor=org.irene)
    make_workflow(org, plan, dept="MKT", retire_in=-2)
    return plan


def login(client, user):
    client.force_login(user)
    return client


def test_the_ops_leader_sees_unmet_conditions_with_links_to_fix_them(
        client, org, plan, submit, django_assert_max_num_queries):
    submit(actor=org.alice, cost="100")
    login(client, org.olivia)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("plans:detail", args=[plan.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 condition not met" in page
    assert "Laptop approvals by email" in page and "overdue" in page
    assert f'href="{reverse("plans:detail", args=[plan.pk])}#workflow-' in page
    assert "Laptop delivery cycle time" in page and "160.00 hours" in page  # baseline
    assert 'id="adoption-chart"' in page and "vendor/chart.umd.min.js" in page
    assert "record a decision taken outside the tool" in page
    assert 'name="justification"' in page  # an ops leader may override


def test_plans_are_listed_for_those_who_may_see_them(client, org, plan):
    assert plan.name in login(client, org.olivia).get(reverse("plans:list")).content.decode()
    assert plan.name in login(client, org.hank).get(reverse("plans:list")).content.decode()
    assert plan.name not in login(client, org.alice).get(reverse("plans:list")).content.decode()


def test_someone_outside_the_plan_gets_404(client, org, plan):
    login(client, org.alice)
    assert client.get(reverse("plans:detail", args=[plan.pk])).status_code == 404
    response = client.post(reverse("plans:go_live", args=[plan.pk]))
    assert response.status_code == 404


def test_the_owning_head_sees_the_plan_and_retires_the_workflow_from_it(client, org, plan):
    workflow = plan.workflows.get()
    login(client, org.hank)
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "Record retirement" in page and "Go live" not in page
    response = client.post(reverse("plans:workflow_retire", args=[workflow.pk]),
                           {"evidence": "Mailbox closed"})
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.retired_on is not None


def test_go_live_is_refused_on_the_page_then_overridden_by_the_ops_leader(client, org, plan):
    login(client, org.irene)
    response = client.post(reverse("plans:go_live", args=[plan.pk]), follow=True)
    assert "is not ready" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PLANNING

    login(client, org.olivia)
    client.post(reverse("plans:go_live", args=[plan.pk]),
                {"justification": "Email channel dies Friday regardless"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.LIVE
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "Taken live with unmet conditions: Email channel dies Friday regardless" in page


def test_the_ops_leader_records_an_outside_decision_from_the_page(client, org, plan, submit):
    request = submit(actor=org.alice, cost="100")
    step = request.steps.get(state=StepState.ACTIVE)
    login(client, org.hank)
    assert client.get(reverse("plans:outside_decision", args=[step.pk])).status_code == 403
    login(client, org.olivia)
    detail = reverse("plans:detail", args=[plan.pk])
    response = client.post(reverse("plans:outside_decision", args=[step.pk]) + f"?next={detail}",
                           {"outcome": "approved", "reason": "Hank said yes on the phone"})
    assert response.status_code == 302 and response.url == detail
    step.refresh_from_db()
    assert step.decided_outside
    page = client.get(detail).content.decode()
    assert "1 approval recorded as decided outside the tool" in page


def test_uploading_a_tracker_queues_a_job_whose_progress_the_page_polls(
        client, org, plan, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "sheet.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["requester", "answer.details", "answer.model", "estimated_cost",
                         "submitted_at", "status", "external_id"])
        writer.writerow(["alice", "Old", "13-inch standard", "100", "2026-01-05", "open", "1"])
    login(client, org.hank)
    assert client.get(reverse("plans:import", args=[plan.pk])).status_code == 403

    login(client, org.olivia)
    with open(path, "rb") as upload, django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("plans:import", args=[plan.pk]), {
            "file": upload, "item": org.item["laptop"].pk,
            "workflow": plan.workflows.get().pk})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("plans:import_job",
                                                                    args=[job.pk])
    assert len(queued) == 1  # the Celery task is sent only after commit
    page = client.get(response.url).content.decode()
    assert "hx-get" in page and "every 1s" in page and "Queued" in page

    import_job_run(job_id=job.pk)  # what the worker does

    progress = client.get(reverse("plans:import_progress", args=[job.pk])).content.decode()
    assert "Imported 1 requests" in progress and "hx-get" not in progress
    assert ServiceRequest.objects.filter(source=Source.LEGACY_IMPORT).count() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and (job.done, job.total) == (1, 1)
    assert AuditEvent.objects.filter(verb="import.done", correlation=f"plan:{plan.pk}").exists()


def test_an_upload_with_bad_rows_shows_each_line(client, org, plan, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "bad.csv"
    path.write_text("requester,submitted_at,status,external_id,answer.details,answer.model,"
                    "estimated_cost\nghost,2026-01-05,open,1,d,13-inch standard,1\n"
                    "alice,someday,open,2,d,13-inch standard,1\n")
    login(client, org.olivia)
    with open(path, "rb") as upload:
        client.post(reverse("plans:import", args=[plan.pk]),
                    {"file": upload, "item": org.item["laptop"].pk, "dry_run": "on"})
    job = import_job_run(job_id=ImportJob.objects.get().pk)
    page = client.get(reverse("plans:import_job", args=[job.pk])).content.decode()
    assert job.status == ImportStatus.REJECTED
    assert "<td>2</td><td>requester “ghost”: no account" in page
    assert "<td>3</td><td>submitted_at “someday” is not a date" in page
    assert "2 of 2 rows have errors; nothing was imported" in page


def test_the_navigation_shows_change_plans_to_those_concerned(client, org, plan):
    # "/" redirects each person to their work; the portal renders the navigation for all.
    olivia = login(client, org.olivia).get("/portal/")
    alice = login(client, org.alice).get("/portal/")
    assert (olivia.status_code, alice.status_code) == (200, 200)
    assert "Change plans" in olivia.content.decode()
    assert "Change plans" not in alice.content.decode()
    # The sponsor, and the head whose department's workflow the plan retires (hank, MKT);
    # not a head the plan does not concern (helen, HR).
    for person, sees in ((org.irene, True), (org.hank, True), (org.helen, False)):
        page = login(client, person).get("/portal/").content.decode()
        assert ('id="nav-plans-list"' in page) is sees, person.username


def test_whether_someone_sees_change_plans_costs_the_navigation_no_statement(
        client, org, plan, django_assert_max_num_queries):
    # Session with its person, the role row, the badges with "sees a change plan", the page.
    login(client, org.hank).get("/portal/")
    with django_assert_max_num_queries(4) as hank:
        page = client.get("/portal/").content.decode()
    assert 'id="nav-plans-list"' in page
    statements = len(hank.captured_queries)
    login(client, org.helen).get("/portal/")
    with django_assert_max_num_queries(statements):
        page = client.get("/portal/").content.decode()
    assert 'id="nav-plans-list"' not in page
