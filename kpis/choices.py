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
