from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "up", _("Higher is better")
    LOWER_IS_BETTER = "down", _("Lower is better")


class Measure(models.TextChoices):
    MEDIAN_CYCLE_TIME = "median_cycle_time", _("Median cycle time (hours)")
    ON_TIME_RATE = "on_time_rate", _("On-time rate (%)")
    COST_PER_REQUEST = "cost_per_request", _("Cost per request")
    OPEN_BACKLOG = "open_backlog", _("Open backlog")
    THROUGHPUT = "throughput", _("Throughput per week")
    MANUAL = "manual", _("Entered by hand")


class KPIStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")
    NO_DATA = "no_data", _("No data yet")


class SnapshotSource(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    ENTERED = "entered", _("Entered by hand")
