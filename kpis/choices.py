from django.db import models


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "up", "Higher is better"
    LOWER_IS_BETTER = "down", "Lower is better"


class Measure(models.TextChoices):
    MEDIAN_CYCLE_TIME = "median_cycle_time", "Median cycle time (hours)"
    ON_TIME_RATE = "on_time_rate", "On-time rate (%)"
    COST_PER_REQUEST = "cost_per_request", "Cost per request"
    OPEN_BACKLOG = "open_backlog", "Open backlog"
    THROUGHPUT = "throughput", "Throughput per week"
    MANUAL = "manual", "Entered by hand"


class KPIStatus(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    NO_DATA = "no_data", "No data yet"


class SnapshotSource(models.TextChoices):
    COMPUTED = "computed", "Computed"
    ENTERED = "entered", "Entered by hand"
