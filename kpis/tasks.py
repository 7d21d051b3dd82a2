"""The daily KPI snapshot job: thin, safe to run twice (the service upserts)."""

from celery import shared_task

from kpis.services import snapshots_compute


@shared_task(bind=True, soft_time_limit=600, time_limit=660, autoretry_for=(Exception,),
             retry_backoff=60, retry_kwargs={"max_retries": 3})
def kpi_snapshots_refresh(self, weeks_back: int = 2) -> int:
    return snapshots_compute(weeks_back=weeks_back)
