"""Delay risks: the accountability half of governance. Reads the lifecycle (string
references to approvals and requests); the lifecycle never imports this module."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.selectors import departments_led_by
from kit.rules import RestrictedQuerySet
from requests_app.models import ServiceRequest


class DelayRiskQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> DelayRiskQuerySet:
        """The one visibility rule for delay risks.

        Ops leaders and superusers see all; anyone else sees the risks charged to them, to
        the departments they head or deputise (and their sub-departments), and the risks of
        the requests they can see (a risk never reveals a request its page would refuse).
        """
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.is_ops_leader:
            return self

        led = departments_led_by(user).values("pk")
        return self.filter(
            Q(head=user)
            | Q(department__in=led)
            | Q(department__parent__in=led)
            | Q(request__in=ServiceRequest.objects.restrict(user).values("pk"))
        )

    def open(self) -> DelayRiskQuerySet:
        return self.filter(resolved_at__isnull=True)


class DelayRisk(models.Model):
    """An active step past its due time, charged in money to the one head accountable for it.

    Opened by the delay scan when a step passes ``due_at``; its level rises as the delay
    grows; resolved (never deleted) when the step leaves the active state. Resolved risks are
    the history accountability reporting reads.
    """

    step = models.ForeignKey("approvals.Step", on_delete=models.PROTECT, related_name="delay_risks")
    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.PROTECT, related_name="delay_risks"
    )
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="delay_risks",
        help_text="The accountable department when the risk was detected.",
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="delay_risks", help_text="The accountable head when the risk was detected.",
    )
    detected_at = models.DateTimeField()
    level = models.PositiveSmallIntegerField(default=1)
    escalated_at = models.DateTimeField(null=True, blank=True)
    overdue_hours = models.DecimalField(
        "business hours overdue", max_digits=10, decimal_places=2, default=0,
        help_text="For display and levels: overdue_seconds in hours, rounded to 0.01 h.",
    )
    overdue_seconds = models.DecimalField(
        "business seconds overdue", max_digits=18, decimal_places=6, default=0,
        help_text="Exact business time overdue posted so far (the sum of the risk's postings).",
    )
    cost_of_delay_per_day = models.DecimalField(max_digits=12, decimal_places=2)
    day_seconds = models.PositiveIntegerField(
        "business day length (seconds)",
        help_text="The accountable department's working day when the risk was detected, exact.",
    )
    exposure = models.DecimalField(
        max_digits=14, decimal_places=2, default=0,
        help_text="Cost of delay posted so far (the sum of the risk's postings).",
    )
    posted_until = models.DateTimeField(
        help_text="The moment up to which the overdue time has been posted to the ledger.",
    )
    refreshed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(
        max_length=16, blank=True, help_text="The state the step closed in (approved, done…)."
    )

    objects = DelayRiskQuerySet.as_manager()

    class Meta:
        db_table = "governance_delayrisk"
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["step"], condition=Q(resolved_at__isnull=True), name="delay_risk_one_open_per_step"
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="delay_risk_level_range"),
            models.CheckConstraint(condition=Q(exposure__gte=0), name="delay_risk_exposure_not_negative"),
        ]
        indexes = [
            models.Index(fields=["department", "resolved_at"], name="risk_dept_resolved"),
            # The board's open risks and exposure per department, read from the index alone.
            models.Index(fields=["department", "level", "exposure"],
                         condition=Q(resolved_at__isnull=True), name="risk_open_dept"),
            models.Index(fields=["head", "resolved_at"], name="risk_head_resolved"),
            models.Index(fields=["detected_at"], name="risk_detected"),
            models.Index(fields=["resolved_at"], name="risk_resolved"),
        ]

    def __str__(self) -> str:
        return f"Delay L{self.level} on step {self.step_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def day_hours(self) -> Decimal:
        return Decimal(self.day_seconds) / 3600
