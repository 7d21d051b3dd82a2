"""What an operator watches of accountability's background work: the delay scan's last run
(duration and what it found), open delay risks by level, and legacy imports by state. Read by
the metrics endpoint (``operations.metrics.register_gauges``) and ``/healthz/jobs``
(``operations.health.register_job_check``); ``connect()`` registers both at start-up."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from accountability.choices import ImportStatus
from accountability.models import DelayRisk, ImportJob
from accountability.services import risks
from accountability.services.legacy_import import RUNNING
from operations import health, heartbeats, metrics

DELAY_SCAN = "delay-scan"
SCAN_COUNTS = ("raised", "escalated", "refreshed", "open", "notifications")


def delay_scan_run() -> risks.ScanResult:
    """One delay scan (beat's job and ``manage.py flag_delays``), its duration and counts
    recorded for the operator. A run that found another one holding the lock records nothing."""
    started = time.monotonic()
    result = risks.flag_delays()
    if not result.skipped:
        heartbeats.mark(DELAY_SCAN, seconds=time.monotonic() - started,
                        detail={name: getattr(result, name) for name in SCAN_COUNTS})
    return result


def _stale_imports():
    before = timezone.now() - timedelta(seconds=settings.SRM_IMPORT_STALE_SECONDS)
    return ImportJob.objects.filter(status__in=RUNNING, heartbeat_at__lt=before)


def gauges() -> Iterable[metrics.Metric]:
    scan = heartbeats.last().get(DELAY_SCAN)
    yield metrics.gauge("srm_delay_scan_duration_seconds",
                        "How long the last delay scan took.", scan.seconds if scan else None)
    yield metrics.gauge(
        "srm_delay_scan_result", "What the last delay scan counted, by kind.", labels=["kind"],
        samples=[([kind], (scan.detail.get(kind, 0) if scan else 0)) for kind in SCAN_COUNTS])
    by_level = dict(DelayRisk.objects.open().values_list("level").annotate(n=Count("pk"))
                    .values_list("level", "n"))
    yield metrics.gauge("srm_delay_risks_open", "Open delay risks, by level.", labels=["level"],
                        samples=[([str(level)], by_level.get(level, 0)) for level in (1, 2, 3)])
    by_state = dict(ImportJob.objects.values_list("status").annotate(n=Count("pk"))
                    .values_list("status", "n"))
    yield metrics.gauge("srm_imports", "Legacy import jobs, by state.", labels=["state"],
                        samples=[([state.value], by_state.get(state.value, 0))
                                 for state in ImportStatus])
    yield metrics.gauge("srm_imports_stale",
                        "Running imports whose heartbeat is older than SRM_IMPORT_STALE_SECONDS.",
                        _stale_imports().count())


def _delay_scan_check() -> health.Check:
    scan = heartbeats.last().get(DELAY_SCAN)
    if scan is None:
        return health.Check(False, "the delay scan has not run yet")
    age = (timezone.now() - scan.at).total_seconds()
    limit = settings.SRM_HEALTH_DELAY_SCAN_MAX_AGE
    return health.Check(age <= limit, "" if age <= limit else f"last ran {age:.0f} s ago",
                        data={"age": round(age, 1), "duration": round(scan.seconds, 3),
                              **scan.detail})


def _imports_check() -> health.Check:
    stale = _stale_imports().count()
    return health.Check(stale == 0, "" if not stale else
                        f"{stale} running import(s) without a heartbeat; the reaper re-queues "
                        "them", data={"stale": stale})


def connect() -> None:
    metrics.register_gauges("accountability", gauges)
    health.register_job_check(DELAY_SCAN, _delay_scan_check)
    health.register_job_check("imports", _imports_check)
