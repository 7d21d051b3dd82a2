from django.db import models

from kpis.choices import Direction, Measure


class OutcomeKPI(models.Model):
    """The outcome a service exists for; every published catalog item serves one."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=40, help_text="For example: hours, %, EUR, requests.")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    baseline = models.DecimalField(max_digits=14, decimal_places=2)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    owner_department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="kpis"
    )
    measure = models.CharField(max_length=24, choices=Measure.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = "outcome KPI"
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
