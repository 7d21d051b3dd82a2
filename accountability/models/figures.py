"""Stored accountability figures: the aggregates behind the board, the department pages, the
handoff view and the quarterly report, computed in SQL by ``accountability.figures``
and kept fresh by a periodic job, so those pages read a few hundred rows instead of grouping
millions of steps on every view.

What stays live on every view is what changes minute by minute and is cheap to count: open
and overdue steps, open delay risks and their exposure. Everything here is a projection of the
lifecycle and the delay risks; it can be dropped and rebuilt at any time
(``python manage.py refresh_figures --all``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 16, "decimal_places": 2}
HOURS = {"max_digits": 12, "decimal_places": 1, "null": True, "blank": True}


class FiguresStamp(models.Model):
    """When one family of figures was last computed (``flow``, ``weeks``, ``items``,
    ``handoffs``, ``quarter:2026-10-01``), and for which moment."""

    key = models.CharField(max_length=40, primary_key=True)
    computed_at = models.DateTimeField(help_text=_("The moment the figures describe."))

    class Meta:
        db_table = "governance_figuresstamp"

    def __str__(self) -> str:
        return f"{self.key} @ {self.computed_at:%Y-%m-%d %H:%M}"


class OpenWorkFigures(models.Model):
    """One department's open work for the board: open and overdue steps, open delay risks by
    level and their exposure. Refreshed every minute (the delay scan's own rhythm)."""

    department = models.OneToOneField("governance.Department", primary_key=True,
                                      on_delete=models.CASCADE, related_name="+")
    open_steps = models.PositiveIntegerField(default=0)
    overdue_steps = models.PositiveIntegerField(default=0)
    risks_l1 = models.PositiveIntegerField(default=0)
    risks_l2 = models.PositiveIntegerField(default=0)
    risks_l3 = models.PositiveIntegerField(default=0)
    exposure = models.DecimalField(default=0, **MONEY)

    class Meta:
        db_table = "governance_openworkfigures"
        verbose_name_plural = _("open work figures")

    def __str__(self) -> str:
        return f"open work of department {self.department_id}"


class FlowFigures(models.Model):
    """One department's flow over the board's window (the last four weeks): steps completed,
    OLA breaches, time in step, handoffs received."""

    department = models.OneToOneField("governance.Department", primary_key=True,
                                      on_delete=models.CASCADE, related_name="+")
    steps_completed = models.PositiveIntegerField(default=0)
    steps_breached = models.PositiveIntegerField(default=0)
    median_hours = models.DecimalField(**HOURS)
    p90_hours = models.DecimalField(**HOURS)
    median_ola_hours = models.DecimalField(**HOURS)
    handoffs_received = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "governance_flowfigures"
        verbose_name_plural = _("flow figures")

    def __str__(self) -> str:
        return f"flow of department {self.department_id}"


class WeekFigures(models.Model):
    """One department's week (Monday, reporting timezone) on its trend."""

    department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                   related_name="+")
    week = models.DateField()
    steps_completed = models.PositiveIntegerField(default=0)
    steps_breached = models.PositiveIntegerField(default=0)
    median_hours = models.DecimalField(**HOURS)
    risks_detected = models.PositiveIntegerField(default=0)
    exposure_detected = models.DecimalField(default=0, **MONEY)

    class Meta:
        db_table = "governance_weekfigures"
        verbose_name_plural = _("week figures")
        constraints = [models.UniqueConstraint(fields=["department", "week"],
                                               name="week_figures_unique")]

    def __str__(self) -> str:
        return f"department {self.department_id}, week of {self.week}"


class ItemTimeFigures(models.Model):
    """Per department and catalog item: average hours waiting and working per step."""

    department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                   related_name="+")
    item = models.ForeignKey("requests_app.CatalogItem", on_delete=models.CASCADE,
                             related_name="+")
    steps = models.PositiveIntegerField(default=0)
    waiting_hours = models.FloatField(null=True, blank=True)
    working_hours = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "governance_itemtimefigures"
        verbose_name_plural = _("item time figures")
        constraints = [models.UniqueConstraint(fields=["department", "item"],
                                               name="item_time_figures_unique")]

    def __str__(self) -> str:
        return f"department {self.department_id}, item {self.item_id}"


class HandoffFigures(models.Model):
    """A pair of departments handing work to each other within the window."""

    from_department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                        related_name="+")
    to_department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                      related_name="+")
    count = models.PositiveIntegerField(default=0)
    median_dwell_hours = models.DecimalField(**HOURS)

    class Meta:
        db_table = "governance_handofffigures"
        verbose_name_plural = _("handoff figures")
        constraints = [models.UniqueConstraint(fields=["from_department", "to_department"],
                                               name="handoff_figures_unique")]

    def __str__(self) -> str:
        return f"department {self.from_department_id} → {self.to_department_id}"


class QuarterFigures(models.Model):
    """One cost centre's quarter on the quarterly cost report."""

    quarter = models.DateField(help_text=_("The quarter's first day."))
    department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                   related_name="+")
    submitted = models.PositiveIntegerField(default=0)
    approved_spend = models.DecimalField(default=0, **MONEY)
    fulfilled_spend = models.DecimalField(default=0, **MONEY)
    cost_of_delay = models.DecimalField(default=0, **MONEY)
    delay_adjustments = models.DecimalField(default=0, **MONEY)
    fulfilled = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "governance_quarterfigures"
        verbose_name_plural = _("quarter figures")
        constraints = [models.UniqueConstraint(fields=["quarter", "department"],
                                               name="quarter_figures_unique")]

    def __str__(self) -> str:
        return f"department {self.department_id}, quarter of {self.quarter}"
