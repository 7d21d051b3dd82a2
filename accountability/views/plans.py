"""Change plan pages: translate requests into selector reads and service calls, nothing more."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accountability.forms_plans import (
    ImportForm,
    JustificationForm,
    NoteForm,
    OutsideDecisionForm,
    PlanForm,
    ReasonForm,
    RetireForm,
    WorkflowForm,
)
from accountability.models import ChangePlan, ImportJob, LegacyWorkflow
from accountability.selectors_plans import (
    import_job_get,
    import_jobs_for,
    plan_adoption,
    plan_audit_trail,
    plan_bypass_count,
    plan_get,
    plan_readiness,
    plan_value,
    plan_waiting_approvals,
    plan_workflows,
    plans_for,
)
from accountability.services.legacy_import import import_job_create
from accountability.services.plans import (
    plan_abandon,
    plan_create,
    plan_go_live,
    plan_mark_value_realized,
    plan_update,
    workflow_add,
    workflow_keep,
    workflow_retire,
    workflow_update,
)
from approvals.choices import StepKind, StepState
from approvals.models import Step
from approvals.services import step_record_outside_decision
from governance.errors import DomainError
from governance.models import AuditEvent
from kit.uploads import upload_limit
from kit.web import add_field_errors, safe_next, serves
from requests_app.models import CatalogItem


def _is_ops(user) -> bool:
    return user.is_ops_leader or user.is_superuser


def _flash_error(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, exc.message)


@login_required
@require_GET
@serves(ChangePlan)
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accountability/plans/list.html", {
        "plans": plans_for(request.user), "is_ops": _is_ops(request.user),
    })


@login_required
@require_GET
@serves(ChangePlan, AuditEvent)
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get(request.user, plan_id)
    conditions = plan_readiness(plan)
    failing = [c for c in conditions if not c.ok]
    today = timezone.localdate()
    workflows = list(plan_workflows(plan))
    for workflow in workflows:
        workflow.plan = plan
        workflow.overdue = workflow.is_overdue(today)
        workflow.may_retire = workflow.can_retire(request.user)
        workflow.may_keep = workflow.can_keep(request.user)
    adoption = plan_adoption(plan)
    return render(request, "accountability/plans/detail.html", {
        "plan": plan,
        "plan_actions": plan.actions_for(request.user),
        "may_edit": plan.is_open and plan.changeable_by(request.user),
        "is_ops": _is_ops(request.user),
        "conditions": conditions,
        "failing": failing,
        "met_count": len(conditions) - len(failing),
        "workflows": workflows,
        "overdue": [w for w in workflows if w.overdue],
        "adoption": adoption,
        "chart": {
            "labels": [w.week.isoformat() for w in adoption],
            "tool": [w.tool for w in adoption],
            "legacy": [w.legacy for w in adoption],
            "bypassed": [w.bypassed for w in adoption],
        },
        "bypass_count": plan_bypass_count(plan),
        "value": plan_value(plan),
        "waiting": plan_waiting_approvals(plan) if _is_ops(request.user) else [],
        "trail": plan_audit_trail(request.user, plan),
        "jobs": import_jobs_for(request.user, plan).defer("errors")[:10] if _is_ops(request.user) else [],
        "go_live_form": JustificationForm(),
        "retire_form": RetireForm(),
        "keep_form": ReasonForm(),
        "abandon_form": ReasonForm(),
        "value_form": NoteForm(),
    })


@login_required
@require_http_methods(["GET", "POST"])
@serves(CatalogItem)
def plan_create_view(request: HttpRequest) -> HttpResponse:
    if not _is_ops(request.user):
        raise PermissionDenied(_("Only ops leaders start change plans."))
    form = PlanForm(request.POST or None, user=request.user, initial={"sponsor": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_field_errors(form, exc)
        else:
            messages.success(request, _("“%(plan)s” is planned. Name the legacy workflows it "
                                        "retires next.") % {"plan": plan})
            return redirect("plans:workflow_add", plan_id=plan.pk)
    return render(request, "accountability/plans/plan_form.html", {"form": form, "plan": None})


@login_required
@require_http_methods(["GET", "POST"])
@serves(ChangePlan)
def plan_edit_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get(request.user, plan_id, "change")
    form = PlanForm(request.POST or None, user=request.user, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            plan_update(actor=request.user, plan=plan, **form.cleaned_data)
        except DomainError as exc:
            add_field_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": plan})
            return redirect("plans:detail", plan_id=plan.pk)
    return render(request, "accountability/plans/plan_form.html", {"form": form, "plan": plan})


@login_required
@require_http_methods(["GET", "POST"])
@serves(ChangePlan)
def workflow_add_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = plan_get(request.user, plan_id, "change")
    form = WorkflowForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            workflow = workflow_add(actor=request.user, plan=plan, **form.cleaned_data)
        except DomainError as exc:
            add_field_errors(form, exc)
        else:
            messages.success(request, _("“%(workflow)s” is on the plan; %(head)s retires it by "
                                        "%(by)s.") % {
                "workflow": workflow, "head": workflow.owning_department.head or _("its head"),
                "by": date_format(workflow.retire_by, "j M Y")})
            if "another" in request.POST:
                return redirect("plans:workflow_add", plan_id=plan.pk)
            return redirect(reverse("plans:detail", args=[plan.pk]) + f"#workflow-{workflow.pk}")
    return render(request, "accountability/plans/workflow_form.html",
                  {"form": form, "plan": plan, "workflow": None})


@login_required
@require_http_methods(["GET", "POST"])
@serves(LegacyWorkflow)
def workflow_edit_view(request: HttpRequest, workflow_id: int) -> HttpResponse:
    workflow = _workflow_for(request.user, workflow_id)
    if not workflow.plan.changeable_by(request.user):
        raise PermissionDenied(_("Only an ops leader or the plan's sponsor edits its workflows."))
    form = WorkflowForm(request.POST or None, plan=workflow.plan, workflow=workflow)
    if request.method == "POST" and form.is_valid():
        try:
            workflow_update(actor=request.user, workflow=workflow, **form.cleaned_data)
        except DomainError as exc:
            add_field_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": workflow})
            return redirect(reverse("plans:detail", args=[workflow.plan_id])
                            + f"#workflow-{workflow.pk}")
    return render(request, "accountability/plans/workflow_form.html",
                  {"form": form, "plan": workflow.plan, "workflow": workflow})


def _act(request: HttpRequest, form_class, act, success: str, back: str) -> HttpResponse:
    """Validate the posted form, call the service, flash the outcome, go back."""
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    else:
        try:
            act(form.cleaned_data)
            messages.success(request, success)
        except DomainError as exc:
            _flash_error(request, exc)
    return redirect(back)


def _plan_action(request: HttpRequest, plan_id: int, form_class, act, success: str):
    plan = plan_get(request.user, plan_id, "change")
    return _act(request, form_class, lambda data: act(plan, data), success.format(plan=plan),
                reverse("plans:detail", args=[plan.pk]))


@login_required
@require_POST
@serves(ChangePlan)
def plan_go_live_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(
        request, plan_id, JustificationForm,
        lambda plan, data: plan_go_live(actor=request.user, plan=plan,
                                        justification=data["justification"]),
        _("“{plan}” is live."))


@login_required
@require_POST
@serves(ChangePlan)
def plan_value_realized_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(
        request, plan_id, NoteForm,
        lambda plan, data: plan_mark_value_realized(actor=request.user, plan=plan,
                                                    note=data["note"]),
        _("“{plan}” has realized its value."))


@login_required
@require_POST
@serves(ChangePlan)
def plan_abandon_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(
        request, plan_id, ReasonForm,
        lambda plan, data: plan_abandon(actor=request.user, plan=plan, reason=data["reason"]),
        _("“{plan}” was abandoned."))


def _workflow_for(user, workflow_id: int) -> LegacyWorkflow:
    return get_object_or_404(LegacyWorkflow.objects.restrict(user).select_related("plan"),
                             pk=workflow_id)


def _workflow_action(request, workflow_id, form_class, act, success):
    workflow = _workflow_for(request.user, workflow_id)
    back = reverse("plans:detail", args=[workflow.plan_id]) + f"#workflow-{workflow.pk}"
    return _act(request, form_class, lambda data: act(workflow, data),
                success.format(workflow=workflow), back)


@login_required
@require_POST
@serves(LegacyWorkflow)
def workflow_retire_view(request: HttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request, workflow_id, RetireForm,
        lambda wf, data: workflow_retire(actor=request.user, workflow=wf,
                                         evidence=data["evidence"], on=data["on"]),
        _("“{workflow}” is retired."))


@login_required
@require_POST
@serves(LegacyWorkflow)
def workflow_keep_view(request: HttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request, workflow_id, ReasonForm,
        lambda wf, data: workflow_keep(actor=request.user, workflow=wf, reason=data["reason"]),
        _("“{workflow}” stays."))


# --- Legacy import ---------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@upload_limit("SRM_IMPORT_MAX_BYTES")
@serves(ChangePlan)
def plan_import(request: HttpRequest, plan_id: int) -> HttpResponse:
    if not _is_ops(request.user):
        raise PermissionDenied(_("Only ops leaders import legacy trackers."))
    plan = plan_get(request.user, plan_id)
    form = ImportForm(request.POST or None, request.FILES or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                actor=request.user, item=form.cleaned_data["item"],
                upload=form.cleaned_data["file"], workflow=form.cleaned_data["workflow"],
                dry_run=form.cleaned_data["dry_run"], background=True)
        except DomainError as exc:
            add_field_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” is queued: every row is checked before "
                                        "anything is imported.") % {"name": job.original_name})
            return redirect("plans:import_job", job_id=job.pk)
    return render(request, "accountability/plans/import.html", {
        "plan": plan, "form": form, "jobs": import_jobs_for(request.user, plan).defer("errors")[:20],
    })


@login_required
@require_GET
@serves(ImportJob)
def import_job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(request.user, job_id)
    return render(request, "accountability/plans/import_job.html", {"job": job})


@login_required
@require_GET
@serves(ImportJob)
def import_job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(request.user, job_id)
    return render(request, "accountability/plans/_import_progress.html", {"job": job})


# --- Decisions taken outside the tool ------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@serves(Step)
def outside_decision(request: HttpRequest, step_id: int) -> HttpResponse:
    if not request.user.is_ops_leader:
        raise PermissionDenied(_("Only ops leaders record decisions taken outside the tool."))
    step = get_object_or_404(
        Step.objects.restrict(request.user, "view")
        .filter(kind=StepKind.APPROVAL, state=StepState.ACTIVE)
        .select_related("request", "accountable_head", "accountable_department"),
        pk=step_id)
    form = OutsideDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            step_record_outside_decision(actor=request.user, step=step,
                                         reason=form.cleaned_data["reason"],
                                         outcome=form.cleaned_data["outcome"])
        except DomainError as exc:
            add_field_errors(form, exc)
        else:
            messages.warning(request, _("Recorded “%(step)s” on %(reference)s as decided outside "
                                        "the tool; it counts as a bypass.") % {
                "step": step.name, "reference": step.request.reference})
            return redirect(safe_next(request, reverse("plans:list")))
    return render(request, "accountability/plans/outside_decision.html", {"step": step, "form": form})
