"""Reads for change plans: visibility, computed readiness, adoption and bypass, value.

Readiness is computed from the configuration every time it is read, never ticked by hand:
the plan page, the go-live service and the tests all call ``plan_readiness``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.choices import WorkflowDecision
from accountability.models import ChangePlan, ImportJob, LegacyWorkflow
from approvals.choices import Responsible, StepKind, StepState
from approvals.models import Step, StepTemplate
from governance.models import AuditEvent, Department, User
from requests_app.choices import Source
from requests_app.models import ServiceRequest


@dataclass(frozen=True)
class Condition:
    """One readiness rule applied to one thing: met or not, and where to fix it."""

    ok: bool
    message: str
    fix_url: str = ""
    rule: str = ""


def plans_for(user: User) -> QuerySet[ChangePlan]:
    return (
        ChangePlan.objects.restrict(user, "view")
        .select_related("sponsor")
        .annotate(
            item_count=Count("items", distinct=True),
            workflow_count=Count("workflows", distinct=True),
            retired_count=Count("workflows", filter=Q(workflows__retired_on__isnull=False),
                                distinct=True),
        )
        .order_by("go_live_on", "name")
    )


def plan_get(user: User, plan_id: int, action: str = "view") -> ChangePlan:
    """The plan, or 404 when ``user`` may not see (or change) it."""
    return get_object_or_404(
        ChangePlan.objects.restrict(user, action).select_related("sponsor"), pk=plan_id
    )


def plan_correlation(plan: ChangePlan) -> str:
    """The audit correlation that gathers a plan's events and its workflows' into one trail."""
    return plan.audit_correlation


def plan_audit_trail(user: User, plan: ChangePlan, limit: int = 50) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.restrict(user, about=plan)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def plan_workflows(plan: ChangePlan) -> QuerySet[LegacyWorkflow]:
    return plan.workflows.select_related("owning_department__head", "replaced_by").order_by(
        "retire_by", "name"
    )


# --- Readiness ---------------------------------------------------------------------------------
def _admin(model: str, pk) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def plan_readiness(plan: ChangePlan) -> list[Condition]:
    """Every readiness condition of ``plan``, unmet ones first, each with a link to fix it.

    1. every item in scope is published, with an outcome KPI and an approval path with steps;
    2. every step template of those paths has an OLA and a resolvable accountable head
       (named department → its head; fulfilling department → its head; requester's head →
       the heads of the departments that request the item, or of every department when
       nobody has yet);
    3. every department involved (fulfilling, named in a step, owning a legacy workflow)
       has a head;
    4. every legacy workflow due by go-live is retired, or kept with a reason.

    A bounded number of queries, whatever the size of the plan.
    """

    conditions: list[Condition] = []
    items = list(plan.items.select_related("kpi", "path", "fulfilling_department__head"))
    if not items:
        conditions.append(Condition(False, _("The plan has no catalog items in scope yet."),
                                    _admin("accountability_changeplan", plan.pk), "items_in_scope"))
    templates = list(
        StepTemplate.objects.filter(path_id__in={i.path_id for i in items})
        .select_related("department__head", "path").order_by("path_id", "order")
    )
    by_path: dict[int, list] = {}
    for template in templates:
        by_path.setdefault(template.path_id, []).append(template)
    headless = {d.pk: d for d in Department.objects.filter(head__isnull=True)}
    requested_by: dict[int, set[int]] = {}
    for item_id, dept_id in (
        ServiceRequest.objects.filter(item__in=[i.pk for i in items])
        .values_list("item_id", "requester_department_id").distinct()
    ):
        requested_by.setdefault(item_id, set()).add(dept_id)

    reported_departments: set[int] = set()
    for item in items:
        fix = _admin("requests_app_catalogitem", item.pk)
        names = {"item": item, "kpi": item.kpi, "path": item.path}
        conditions.append(Condition(item.is_published, (_("“%(item)s” is published.")
                                    if item.is_published else _("“%(item)s” is not published."))
                                    % names, fix, "item_published"))
        conditions.append(Condition(item.kpi_id is not None,
                                    (_("“%(item)s” serves the outcome KPI “%(kpi)s”.") if item.kpi_id
                                     else _("“%(item)s” has no outcome KPI.")) % names, fix,
                                    "item_kpi"))
        steps = by_path.get(item.path_id, [])
        conditions.append(Condition(bool(steps),
                                    (_("“%(item)s” follows the path “%(path)s”.") if steps
                                     else _("The path “%(path)s” of “%(item)s” has no steps."))
                                    % names,
                                    _admin("approvals_approvalpath", item.path_id), "item_path"))
        for template in steps:
            conditions.append(_template_ola(template))
            missing = _departments_without_head(template, item, headless, requested_by,
                                                Responsible)
            reported_departments.update(d.pk for d in missing)
            conditions.append(_template_head(template, item, missing))

    involved = {wf.owning_department for wf in plan_workflows(plan)}
    involved |= {item.fulfilling_department for item in items}
    involved |= {t.department for t in templates if t.department_id}
    for department in sorted(involved, key=lambda d: d.name):
        if department.pk in reported_departments:
            continue  # already reported against the step that needs the head
        conditions.append(Condition(
            department.head_id is not None,
            (_("%(department)s has a head (%(head)s).") if department.head_id
             else _("%(department)s has no head to be accountable.")) % {
                "department": department, "head": department.head},
            _admin("governance_department", department.pk), "department_head"))

    for workflow in plan_workflows(plan):
        conditions.append(_workflow_condition(plan, workflow))
    return sorted(conditions, key=lambda c: c.ok)


def _template_ola(template) -> Condition:
    ok = template.ola_hours is not None and template.ola_hours > 0
    return Condition(
        ok,
        (_("Step “%(step)s” of “%(path)s” has an OLA of %(hours)s business hours.") if ok
         else _("Step “%(step)s” of “%(path)s” has no OLA.")) % {
            "step": template.name, "path": template.path, "hours": template.ola_hours},
        _admin("approvals_approvalpath", template.path_id), "template_ola")


def _departments_without_head(template, item, headless, requested_by, responsible) -> list:
    if template.responsible == responsible.DEPARTMENT:
        department = template.department
        return [] if department.head_id else [department]
    if template.responsible == responsible.FULFILLING:
        department = item.fulfilling_department
        return [] if department.head_id else [department]
    # The requester's head: the departments that request this item, or any department.
    requesters = requested_by.get(item.pk)
    if requesters is None:
        return sorted(headless.values(), key=lambda d: d.name)
    return sorted((headless[d] for d in requesters if d in headless), key=lambda d: d.name)


def _template_head(template, item, missing) -> Condition:
    names = {"step": template.name, "path": template.path, "item": item,
             "departments": ", ".join(str(d) for d in missing)}
    if not missing:
        return Condition(True, _("Step “%(step)s” of “%(path)s” for “%(item)s” has an "
                                 "accountable head.") % names,
                         _admin("approvals_approvalpath", template.path_id), "template_head")
    return Condition(False, _("Step “%(step)s” of “%(path)s” for “%(item)s” has no accountable "
                              "head: %(departments)s has no head.") % names,
                     _admin("governance_department", missing[0].pk), "template_head")


def _workflow_condition(plan: ChangePlan, workflow: LegacyWorkflow) -> Condition:
    fix = reverse("plans:detail", args=[plan.pk]) + f"#workflow-{workflow.pk}"
    names = {"workflow": workflow, "on": workflow.retired_on, "reason": workflow.keep_reason,
             "by": workflow.retire_by, "channel": workflow.get_channel_display().lower(),
             "department": workflow.owning_department}
    if workflow.retired_on:
        return Condition(True, _("“%(workflow)s” was retired on %(on)s.") % names, fix,
                         "workflow_retired")
    if workflow.decision == WorkflowDecision.KEEP and workflow.keep_reason.strip():
        return Condition(True, _("“%(workflow)s” stays: %(reason)s") % names, fix,
                         "workflow_retired")
    if workflow.retire_by > plan.go_live_on:
        return Condition(True, _("“%(workflow)s” is due for retirement on %(by)s, after "
                                 "go-live.") % names, fix, "workflow_retired")
    return Condition(False, _("“%(workflow)s” (%(channel)s, %(department)s) is due by go-live "
                              "(%(by)s) and not retired.") % names, fix, "workflow_retired")


def plan_is_ready(plan: ChangePlan) -> bool:
    return all(c.ok for c in plan_readiness(plan))


# --- Adoption, bypass and value -----------------------------------------------------------------
@dataclass(frozen=True)
class AdoptionWeek:
    week: date
    tool: int
    legacy: int
    bypassed: int

    @property
    def total(self) -> int:
        return self.tool + self.legacy

    @property
    def tool_share(self) -> int | None:
        """Percent of the week's requests that entered through the portal or the API."""
        return round(100 * self.tool / self.total) if self.total else None


def plan_adoption(plan: ChangePlan, *, weeks: int = 26,
                  now: datetime | None = None) -> list[AdoptionWeek]:
    """Per week (Monday first), the in-scope requests that entered through the portal or the
    API versus those back-filled from legacy trackers, and the approvals recorded as decided
    outside the tool. Two aggregate queries; weeks without anything are left out."""

    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    item_ids = plan.items.values("pk")
    entered = (
        ServiceRequest.objects.filter(item__in=item_ids, submitted_at__gte=since)
        .annotate(week=TruncWeek("submitted_at"))
        .values("week")
        .annotate(
            tool=Count("pk", filter=Q(source__in=[Source.PORTAL, Source.API])),
            legacy=Count("pk", filter=Q(source=Source.LEGACY_IMPORT)),
        )
    )
    bypassed = (
        Step.objects.filter(request__item__in=item_ids, decided_outside=True,
                            completed_at__gte=since)
        .annotate(week=TruncWeek("completed_at"))
        .values("week")
        .annotate(n=Count("pk"))
    )
    rows: dict[date, dict[str, int]] = {}
    for row in entered:
        rows.setdefault(_day(row["week"]), {}).update(tool=row["tool"], legacy=row["legacy"])
    for row in bypassed:
        rows.setdefault(_day(row["week"]), {})["bypassed"] = row["n"]
    return [
        AdoptionWeek(week=week, tool=v.get("tool", 0), legacy=v.get("legacy", 0),
                     bypassed=v.get("bypassed", 0))
        for week, v in sorted(rows.items())
    ]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def plan_bypass_count(plan: ChangePlan) -> int:
    """Approvals of in-scope requests recorded as decided outside the tool, ever."""

    return Step.objects.filter(request__item__in=plan.items.values("pk"),
                               decided_outside=True).count()


@dataclass(frozen=True)
class ValueLine:
    kpi: object
    items: str
    realized_on: date | None = None


def plan_value(plan: ChangePlan) -> list[ValueLine]:
    """The outcome KPIs of the plan's items with their baseline and target. ``realized_on``
    stays empty until the KPI engine records when a KPI reached its target."""
    served: dict[int, tuple[object, list[str]]] = {}
    items = plan.items.exclude(kpi=None).select_related("kpi__owner_department")
    for item in items:
        served.setdefault(item.kpi_id, (item.kpi, []))[1].append(item.name)
    return [ValueLine(kpi=kpi, items=", ".join(sorted(names)))
            for kpi, names in sorted(served.values(), key=lambda line: line[0].name)]


def plan_waiting_approvals(plan: ChangePlan, limit: int = 20):
    """The oldest active approvals of in-scope requests: where an ops leader may record a
    decision taken outside the tool."""

    return (
        Step.objects.filter(request__item__in=plan.items.values("pk"), kind=StepKind.APPROVAL,
                            state=StepState.ACTIVE)
        .select_related("request", "accountable_head", "accountable_department")
        .order_by("activated_at")[:limit]
    )


def import_jobs_for(user: User, plan: ChangePlan | None = None) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.restrict(user).select_related("item", "workflow", "created_by")
    if plan is not None:
        jobs = jobs.filter(Q(workflow__plan=plan) | Q(item__change_plans=plan)).distinct()
    return jobs


def import_job_get(user: User, job_id: int) -> ImportJob:
    return get_object_or_404(import_jobs_for(user), pk=job_id)
