"""Change plans: the accountability half of governance that sees a rollout through until
the new system is the only path and its outcome KPIs show the value.

Relations to the lifecycle use string references (``"requests_app.CatalogItem"``); the
lifecycle never imports this module.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accountability.choices import (
    IMPORT_FINISHED_STATES,
    IMPORT_MACHINE,
    PLAN_MACHINE,
    PLAN_OPEN_STATES,
    Channel,
    ImportStatus,
    PlanStatus,
    WorkflowDecision,
)
from approvals.roles import role_ids
from governance.states import can_transition
from kit.rules import RestrictedQuerySet


class ChangePlanQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> ChangePlanQuerySet:
        """The one visibility rule for change plans.

        ``view``: ops leaders and superusers see every plan; the sponsor sees theirs; a head
        (or deputy) sees the plans that retire a workflow of their department or bring one of
        its catalog items live. ``change`` (go live, retire workflows…): ops leaders,
        superusers and the sponsor (``ChangePlan.changeable_by`` is the same rule for one
        plan in memory).
        """
        if action not in {"view", "change"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.is_ops_leader:
            return self
        if action == "change":
            return self.filter(sponsor=user)

        led = role_ids(user).led
        if isinstance(led, tuple) and not led:
            return self.filter(sponsor=user)
        owns_workflow = LegacyWorkflow.objects.filter(
            plan=OuterRef("pk"), owning_department__in=led
        )
        fulfils_item = ChangePlan.items.through.objects.filter(
            changeplan=OuterRef("pk"), catalogitem__fulfilling_department__in=led
        )
        return self.filter(Q(sponsor=user) | Exists(owns_workflow) | Exists(fulfils_item))


class ChangePlan(models.Model):
    name = models.CharField(max_length=200, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sponsored_plans",
        verbose_name=_("sponsor"),
    )
    items = models.ManyToManyField(
        "requests_app.CatalogItem", blank=True, related_name="change_plans",
        verbose_name=_("catalog items in scope"),
    )
    go_live_on = models.DateField(_("go-live date"))
    value_target_on = models.DateField(
        _("value realization target date"),
        help_text=_("By when the items' outcome KPIs should reach their targets."),
    )
    status = models.CharField(
        max_length=16,
        choices=PlanStatus.choices,
        default=PlanStatus.PLANNING,
        verbose_name=_("status"),
    )
    live_override_justification = models.TextField(
        blank=True, help_text=_("Set when an ops leader took the plan live with unmet conditions."),
        verbose_name=_("live override justification"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    went_live_at = models.DateTimeField(null=True, blank=True, verbose_name=_("went live at"))
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When value was realized or the plan was abandoned."),
        verbose_name=_("closed at"),
    )
    closing_note = models.TextField(blank=True, verbose_name=_("closing note"))

    objects = ChangePlanQuerySet.as_manager()

    class Meta:
        db_table = "governance_changeplan"
        ordering = ["go_live_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PlanStatus.values), name="change_plan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(value_target_on__gte=models.F("go_live_on")),
                name="change_plan_value_after_go_live",
            ),
        ]
        indexes = [models.Index(fields=["status", "go_live_on"], name="plan_status_golive")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.go_live_on and self.value_target_on and self.value_target_on < self.go_live_on:
            raise ValidationError(
                {"value_target_on": "Value can only be realized on or after go-live."}
            )

    STATE_MACHINE = PLAN_MACHINE

    @property
    def is_open(self) -> bool:
        return self.status in PLAN_OPEN_STATES

    def changeable_by(self, user) -> bool:
        """``restrict(user, "change")`` for this plan, without a query: ops leaders,
        superusers and the sponsor. Services and pages both ask this."""
        return bool(user.is_authenticated and (
            user.is_superuser or user.is_ops_leader or self.sponsor_id == user.pk))

    def can_change(self, user) -> bool:
        return self.changeable_by(user)

    @property
    def audit_correlation(self) -> str:
        """The audit events of the plan, its workflows and imports carry ``plan:<id>``."""
        return f"plan:{self.pk}"

    def audit_access(self, user) -> tuple[bool, bool]:
        return ChangePlan.objects.restrict(user, "view").filter(pk=self.pk).exists(), False

    def actions_for(self, user) -> frozenset[str]:
        """What ``user`` may do to the plan now, from the plan's state machine and its
        ``change`` rule: ``go_live``, ``realize_value``, ``abandon``."""
        if not self.changeable_by(user):
            return frozenset()
        moves = {"go_live": PlanStatus.LIVE, "realize_value": PlanStatus.VALUE_REALIZED,
                 "abandon": PlanStatus.ABANDONED}
        return frozenset(action for action, to in moves.items() if can_transition(self, to))


class LegacyWorkflowQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> LegacyWorkflowQuerySet:
        """A legacy workflow is seen by whoever sees its change plan (``view``)."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        return self.filter(plan__in=ChangePlan.objects.restrict(user, "view"))

    def overdue(self, today=None) -> LegacyWorkflowQuerySet:
        """Retirements past their date: not retired and not decided to be kept."""
        today = today or timezone.localdate()
        return self.filter(retire_by__lt=today, retired_on__isnull=True).exclude(
            decision=WorkflowDecision.KEEP
        )


class LegacyWorkflow(models.Model):
    """A shadow process the plan replaces: an approval by email, a team's spreadsheet…"""

    plan = models.ForeignKey(
        ChangePlan,
        on_delete=models.CASCADE,
        related_name="workflows",
        verbose_name=_("plan"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    owning_department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="legacy_workflows",
        help_text=_("Its head is accountable for retiring it."),
        verbose_name=_("owning department"),
    )
    replaced_by = models.ForeignKey(
        "requests_app.CatalogItem", null=True, blank=True, on_delete=models.PROTECT,
        related_name="replaced_workflows", verbose_name=_("replacing catalog item"),
    )
    retire_by = models.DateField(verbose_name=_("retire by"))
    decision = models.CharField(
        max_length=8, choices=WorkflowDecision.choices, default=WorkflowDecision.RETIRE,
        verbose_name=_("decision"),
    )
    keep_reason = models.TextField(
        blank=True,
        help_text=_("Required when the decision is keep."),
        verbose_name=_("keep reason"),
    )
    retired_on = models.DateField(null=True, blank=True, verbose_name=_("retired on"))
    evidence = models.TextField(
        _("evidence note"), blank=True,
        help_text=_("How we know it is gone: the mailbox closed, the sheet made read-only…"),
    )
    last_reminded_on = models.DateField(
        null=True, blank=True, editable=False,
        help_text=_("When the owning head was last told the retirement is overdue."),
        verbose_name=_("last reminded on"),
    )

    objects = LegacyWorkflowQuerySet.as_manager()

    class Meta:
        db_table = "governance_legacyworkflow"
        ordering = ["retire_by", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="legacy_workflow_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(decision=WorkflowDecision.KEEP) | ~Q(keep_reason=""),
                name="legacy_workflow_keep_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["retire_by", "retired_on"], name="workflow_retire_due")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.decision == WorkflowDecision.KEEP and not self.keep_reason.strip():
            raise ValidationError({"keep_reason": "Say why this workflow stays."})

    @property
    def is_kept(self) -> bool:
        return self.decision == WorkflowDecision.KEEP

    def can_retire(self, user) -> bool:
        """The owning department's head, the plan's sponsor or an ops leader, while the plan
        is open and the workflow not yet retired (``workflow_retire`` asks the same)."""
        return (self.plan.is_open and self.retired_on is None and user.is_authenticated
                and (self.plan.changeable_by(user) or self.owning_department.head_id == user.pk))

    def can_keep(self, user) -> bool:
        """Only who may change the plan: the owning head cannot exempt their own department."""
        return self.plan.is_open and self.retired_on is None and self.plan.changeable_by(user)

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return (
            self.retired_on is None
            and self.decision != WorkflowDecision.KEEP
            and self.retire_by < today
        )


def _imports_storage():
    return storages["imports"]


class ImportJobQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> ImportJobQuerySet:
        """Imports are an ops leaders' tool: they (and superusers) see every job."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if user.is_authenticated and (user.is_superuser or user.is_ops_leader):
            return self
        return self.none()


class ImportJob(models.Model):
    """One legacy tracker import, checked in full and then imported in batches; its counters
    drive the progress bar."""

    item = models.ForeignKey(
        "requests_app.CatalogItem",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("item"),
    )
    workflow = models.ForeignKey(
        LegacyWorkflow, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports",
        verbose_name=_("workflow"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("created by"),
    )
    file = models.FileField(upload_to="imports/", max_length=255, blank=True,
                            storage=_imports_storage,
                            help_text=_("Deleted when the job ends (kept a few days if it failed)."),
                            verbose_name=_("file"))
    original_name = models.CharField(max_length=255, verbose_name=_("original name"))
    dry_run = models.BooleanField(default=False, verbose_name=_("dry run"))
    status = models.CharField(
        max_length=16,
        choices=ImportStatus.choices,
        default=ImportStatus.QUEUED,
        verbose_name=_("status"),
    )
    total = models.PositiveIntegerField(
        default=0,
        help_text=_("Data rows in the file."),
        verbose_name=_("total"),
    )
    done = models.PositiveIntegerField(
        default=0,
        help_text=_("Rows processed in the current phase."),
        verbose_name=_("done"),
    )
    imported = models.PositiveIntegerField(default=0, verbose_name=_("imported"))
    skipped = models.PositiveIntegerField(
        default=0,
        help_text=_("Already imported earlier."),
        verbose_name=_("skipped"),
    )
    error_count = models.PositiveIntegerField(default=0, verbose_name=_("error count"))
    errors = models.JSONField(
        default=list, blank=True, help_text=_("The first bad rows: [line, message]."),
        verbose_name=_("errors"),
    )
    message = models.TextField(blank=True, verbose_name=_("message"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Written after each batch: a stale one means the worker died."),
        verbose_name=_("heartbeat at"),
    )
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Runs started so far."),
        verbose_name=_("attempts"),
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        db_table = "governance_importjob"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="import_job_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.original_name}"

    STATE_MACHINE = IMPORT_MACHINE

    @property
    def is_done(self) -> bool:
        return self.status == ImportStatus.DONE

    @property
    def is_finished(self) -> bool:
        return self.status in IMPORT_FINISHED_STATES

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.is_finished else 0)
