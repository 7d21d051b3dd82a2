from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kit.rules import RestrictedQuerySet
from kpis.choices import Direction, KPIStatus, Measure, SnapshotSource


class OutcomeKPIQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> OutcomeKPIQuerySet:
        """KPIs are organisation-wide: every signed-in person may see them. Entering a
        measurement is for the owner department's head or deputy (``record``)."""
        if not user.is_authenticated:
            return self.none()
        if action == "view":
            return self
        if action == "record":
            return self.filter(measure=Measure.MANUAL).filter(
                Q(owner_department__head=user) | Q(owner_department__deputy=user)
            )
        raise ValueError(f"Unknown action {action!r}")


class OutcomeKPI(models.Model):
    """The outcome a service exists for; every published catalog item serves one."""

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    unit = models.CharField(
        max_length=40,
        help_text=_("For example: hours, %, EUR, requests."),
        verbose_name=_("unit"),
    )
    direction = models.CharField(
        max_length=4,
        choices=Direction.choices,
        verbose_name=_("direction"),
    )
    baseline = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("baseline"))
    target = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("target"))
    owner_department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="kpis",
        verbose_name=_("owner department"),
    )
    measure = models.CharField(max_length=24, choices=Measure.choices, verbose_name=_("measure"))

    objects = OutcomeKPIQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("outcome KPI")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=Direction.values), name="kpi_direction_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(measure__in=Measure.values), name="kpi_measure_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_manual(self) -> bool:
        return self.measure == Measure.MANUAL

    def meets_target(self, value: Decimal | None) -> bool:
        if value is None:
            return False
        if self.direction == Direction.LOWER_IS_BETTER:
            return value <= self.target
        return value >= self.target

    def status_for(self, value: Decimal | None) -> str:
        """On track: the latest period meets the target. At risk: better than the baseline
        but short of the target. Off track: at or worse than the baseline."""
        if value is None:
            return KPIStatus.NO_DATA
        if self.meets_target(value):
            return KPIStatus.ON_TRACK
        better = value < self.baseline if self.direction == Direction.LOWER_IS_BETTER else (
            value > self.baseline)
        return KPIStatus.AT_RISK if better else KPIStatus.OFF_TRACK


class KPISnapshot(models.Model):
    """The value of a KPI over one period (an ISO week in the reporting timezone).

    Computed KPIs are written by ``kpis.services.snapshots_compute`` (upsert, safe to rerun);
    manual KPIs by their owner department's head through ``kpi_measurement_record``."""

    kpi = models.ForeignKey(OutcomeKPI, on_delete=models.CASCADE, related_name="snapshots")
    period_start = models.DateField()
    period_end = models.DateField(help_text=_("First day after the period."))
    value = models.DecimalField(max_digits=14, decimal_places=2)
    sample_size = models.PositiveIntegerField(
        default=0, help_text=_("How many requests the value is computed over (0 when entered).")
    )
    source = models.CharField(
        max_length=12, choices=SnapshotSource.choices, default=SnapshotSource.COMPUTED
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["kpi", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period_start"], name="kpi_snapshot_unique"),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="kpi_snapshot_period_not_empty",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=SnapshotSource.values),
                name="kpi_snapshot_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_start}: {self.value}"
