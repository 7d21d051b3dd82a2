"""The daily KPI snapshot job: thin, safe to run twice (the service upserts; the policy:
kit.tasks)."""

from kit.tasks import task
from kpis.services import snapshots_compute


@task(soft_time_limit=600, time_limit=660)
def kpi_snapshots_refresh(weeks_back: int = 2) -> int:
    return snapshots_compute(weeks_back=weeks_back)
