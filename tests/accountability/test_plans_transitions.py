"""Going live, realizing value, abandoning; retiring shadow processes and reminding their heads."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accountability.choices import PlanStatus, WorkflowDecision
from accountability.models import LegacyWorkflow, Notification
from accountability.services.notifications import notifications_deliver
from accountability.services.plans import (
    plan_abandon,
    plan_go_live,
    plan_mark_value_realized,
    workflow_keep,
    workflow_retire,
    workflows_remind_overdue,
)
from governance.errors import Conflict, NotAllowed, ValidationFailed
from governance.models import AuditEvent, Department
from tests.factories import make_plan, make_workflow


def events(plan, verb):
    return AuditEvent.objects.filter(correlation=f"plan:{plan.pk}", verb=verb)


def test_the_sponsor_takes_a_ready_plan_live(org):
    plan = make_plan(org, sponsor=org.irene)

    plan_go_live(actor=org.irene, plan=plan)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.LIVE and plan.went_live_at is not None
    [event] = events(plan, "plan.live")
    assert (event.actor, event.from_state, event.to_state) == (org.irene, "planning", "live")
    assert event.data["override"] is False


def test_going_live_is_refused_while_a_condition_fails(org):
    plan = make_plan(org)
    make_workflow(org, plan, retire_in=3)  # due before go-live, not retired

    with pytest.raises(Conflict) as exc:
        plan_go_live(actor=org.irene, plan=plan)

    assert exc.value.code == "plan_not_ready"
    assert "Laptop approvals by email" in exc.value.message
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PLANNING
    assert not events(plan, "plan.live").exists()


def test_only_an_ops_leader_may_override_and_only_with_a_justification(org):
    plan = make_plan(org, sponsor=org.irene)
    make_workflow(org, plan, retire_in=3)

    with pytest.raises(NotAllowed):
        plan_go_live(actor=org.irene, plan=plan, justification="Trust me")
    with pytest.raises(Conflict):
        plan_go_live(actor=org.olivia, plan=plan, justification="   ")

    plan_go_live(actor=org.olivia, plan=plan, justification="Board deadline; email dies next week")

    plan.refresh_from_db()
    assert plan.status == PlanStatus.LIVE
    assert plan.live_override_justification == "Board deadline; email dies next week"
    [event] = events(plan, "plan.live")
    assert event.actor == org.olivia
    assert event.data["override"] is True
    assert event.data["justification"] == "Board deadline; email dies next week"
    assert any("Laptop approvals by email" in m for m in event.data["failing"])


def test_people_outside_the_plan_cannot_move_it(org):
    plan = make_plan(org)
    with pytest.raises(NotAllowed):
        plan_go_live(actor=org.alice, plan=plan)


def test_value_is_realized_only_after_go_live_and_abandoning_needs_a_reason(org):
    plan = make_plan(org)
    with pytest.raises(Conflict):
        plan_mark_value_realized(actor=org.olivia, plan=plan)
    plan_go_live(actor=org.olivia, plan=plan)
    plan_mark_value_realized(actor=org.olivia, plan=plan, note="Cycle time 60 h")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.VALUE_REALIZED and plan.closing_note == "Cycle time 60 h"
    with pytest.raises(Conflict):
        plan_abandon(actor=org.olivia, plan=plan, reason="Too late")

    other = make_plan(org, name="Phones")
    with pytest.raises(ValidationFailed):
        plan_abandon(actor=org.olivia, plan=other, reason="")
    plan_abandon(actor=org.olivia, plan=other, reason="Merged into the laptop plan")
    other.refresh_from_db()
    assert other.status == PlanStatus.ABANDONED
    assert events(other, "plan.abandoned").get().data["reason"] == "Merged into the laptop plan"


def test_the_owning_head_retires_a_workflow_with_evidence(org):
    plan = make_plan(org)
    workflow = make_workflow(org, plan, dept="MKT")

    with pytest.raises(ValidationFailed):
        workflow_retire(actor=org.hank, workflow=workflow, evidence=" ")
    with pytest.raises(NotAllowed):
        workflow_retire(actor=org.alice, workflow=workflow, evidence="Gone")
    workflow_retire(actor=org.hank, workflow=workflow, evidence="Mailbox set to auto-reply")

    workflow.refresh_from_db()
    assert workflow.retired_on == timezone.localdate()
    assert workflow.evidence == "Mailbox set to auto-reply"
    assert events(plan, "workflow.retired").get().actor == org.hank
    with pytest.raises(Conflict):
        workflow_retire(actor=org.hank, workflow=workflow, evidence="Again")


def test_keeping_a_workflow_needs_the_sponsor_or_an_ops_leader_and_a_reason(org):
    plan = make_plan(org, sponsor=org.irene)
    workflow = make_workflow(org, plan, dept="MKT")

    with pytest.raises(NotAllowed):
        workflow_keep(actor=org.hank, workflow=workflow, reason="We like email")
    with pytest.raises(ValidationFailed):
        workflow_keep(actor=org.irene, workflow=workflow, reason="")
    workflow_keep(actor=org.irene, workflow=workflow, reason="Regulator requires paper copies")

    workflow.refresh_from_db()
    assert workflow.decision == WorkflowDecision.KEEP
    assert not LegacyWorkflow.objects.overdue(timezone.localdate() + timedelta(days=30)).exists()


def test_overdue_retirements_remind_the_owning_head_once_a_day(
        org, mailoutbox, django_capture_on_commit_callbacks):
    plan = make_plan(org)
    overdue = make_workflow(org, plan, dept="MKT", retire_in=-3)
    make_workflow(org, plan, name="Kept sheet", retire_in=-3, decision="keep",
                  keep_reason="Audit")
    make_workflow(org, plan, name="Future sheet", retire_in=5)

    with django_capture_on_commit_callbacks(execute=True):
        told = workflows_remind_overdue()
    with django_capture_on_commit_callbacks(execute=True):
        again = workflows_remind_overdue()

    assert (told, again) == (1, 0)
    # The notice goes through the outbox: in the head's list at once, e-mailed by delivery.
    [notification] = Notification.objects.filter(recipient=org.hank)
    assert "Laptop approvals by email" in notification.subject
    notifications_deliver()
    [mail] = mailoutbox
    assert mail.to == [f"Hank Hughes <{org.hank.email}>"]
    assert "Laptop approvals by email" in mail.subject and "3 days late" in mail.subject
    assert f"/governance/plans/{plan.pk}/#workflow-{overdue.pk}" in mail.body
    notice = AuditEvent.objects.get(verb="notification.sent")
    assert notice.data["recipient"] == "hank"

    # The next day the head is told again: it is still overdue.
    tomorrow = timezone.localdate() + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert workflows_remind_overdue(today=tomorrow) == 1
    notifications_deliver()
    assert len(mailoutbox) == 2


def test_nobody_is_reminded_about_retired_workflows_or_closed_plans(org, mailoutbox):
    plan = make_plan(org)
    workflow = make_workflow(org, plan, retire_in=-3)
    workflow_retire(actor=org.hank, workflow=workflow, evidence="Closed")
    abandoned = make_plan(org, name="Old idea")
    make_workflow(org, abandoned, retire_in=-3)
    plan_abandon(actor=org.olivia, plan=abandoned, reason="Dropped")

    assert workflows_remind_overdue() == 0


def test_a_department_without_head_is_not_emailed_but_counted_once(org, mailoutbox):
    plan = make_plan(org)
    make_workflow(org, plan, dept="HR", retire_in=-1)
    Department.objects.filter(code="HR").update(head=None)
    assert workflows_remind_overdue() == 0
    assert mailoutbox == []


def test_the_daily_task_is_on_the_beat_schedule(settings):
    from accountability.tasks import remind_overdue_retirements

    entry = settings.CELERY_BEAT_SCHEDULE["remind-overdue-retirements"]
    assert entry["task"] == remind_overdue_retirements.name
