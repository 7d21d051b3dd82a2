"""The accountability pages rendered end to end (URL routing, scope, SQL, template) through
Django's test Client, against the already-loaded data set at ``ctx.database_url``:

- ``dashboards.board``        /dashboard/ as the ops leader (every department)
- ``dashboards.department``   /dashboard/departments/<busiest>/ as the ops leader
- ``dashboards.report``       /reports/ (last four quarters) as the ops leader
- ``dashboards.board_head``   /dashboard/ as that department's head (scope on a subset)

Baseline: ``GET /healthz`` through the same client — the fixed cost of a request through
Django and one query — so the ratio says what the accountability work costs on top.
The issue's target: each page under 300 ms median at 1,000,000 requests on PostgreSQL.

The pages read stored figures (``accountability.figures``) that the
``refresh_figures`` job keeps fresh, so the scenario runs that job first, as beat would, and
reports what it costs per run:

- ``dashboards.refresh_figures``  one run of the job (every family, the current quarter)
- ``dashboards.refresh_open_work`` one run of the every-minute open-work recount
- ``dashboards.*_live``           the same figures computed on the spot, in process (what
  each page cost before the figures were stored): the baseline the stored pages replace

The data set comes from ``python manage.py generate_load --requests N`` (the benchmark
runner loads it); when that command or its data is missing, this scenario says so and
returns no rows.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

from django.conf import settings
from django.core.management import get_commands
from django.db.models import Count
from django.test import Client

from accountability.board import department_lines, waiting_and_working, weekly_trend
from accountability.figures import refresh_figures, refresh_open_work
from accountability.report import quarterly_report
from approvals.choices import StepState
from approvals.models import Step
from governance.models import Department, User
from requests_app.models import ServiceRequest

TARGET_MS = 300
PAGES = {"board", "department", "report", "board_head"}


def _samples(client: Client, url: str, times: int) -> list[float]:
    client.get(url, secure=True)  # warm-up: connection, template loading, plan cache
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(url, secure=True)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return samples


def _timed(fn, times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _row(scenario: str, size: int, samples: list[float], baseline: list[float], url: str,
         *, baseline_name: str = "GET /healthz") -> dict:
    ordered = sorted(samples)
    median = statistics.median(samples)
    base = statistics.median(baseline)
    return {
        "scenario": scenario,
        "size": size,
        "median_ms": round(median, 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "baseline": baseline_name,
        "baseline_median_ms": round(base, 3),
        "ratio": round(median / base, 2) if base else float("nan"),
        "note": (f"{url}; target < {TARGET_MS} ms: {'met' if median < TARGET_MS else 'MISSED'}"
                 if scenario.count(".") == 1 and scenario.split(".")[1] in PAGES else url),
    }


def run(ctx) -> list[dict]:
    size = ctx.sizes[0] if ctx.sizes else 0
    if "generate_load" not in get_commands():
        print("dashboards: `manage.py generate_load` is not available here; skipped.",
              file=sys.stderr)
        return []
    if not ServiceRequest.objects.exists():
        print("dashboards: the database holds no requests (run generate_load first); skipped.",
              file=sys.stderr)
        return []
    leader = (User.objects.filter(is_ops_leader=True).order_by("pk").first()
              or User.objects.filter(is_superuser=True).order_by("pk").first())
    busiest = (Step.objects.filter(state=StepState.ACTIVE).values("accountable_department")
               .annotate(n=Count("pk")).order_by("-n").first())
    department = Department.objects.select_related("head").get(
        pk=busiest["accountable_department"]) if busiest else Department.objects.first()
    if leader is None or department is None:
        print("dashboards: no ops leader or department in the data set; skipped.",
              file=sys.stderr)
        return []

    times = 5 if ctx.quick else 20
    departments = list(Department.objects.select_related("head", "deputy", "parent"))
    refresh = _timed(lambda: refresh_figures(), 1 if ctx.quick else 3)
    recount = _timed(lambda: refresh_open_work(), 3 if ctx.quick else 10)
    live = {
        "board": _timed(lambda: department_lines(departments, everything=True), 3),
        "department": _timed(lambda: (department_lines([department]), weekly_trend(department),
                                      waiting_and_working(department)), 3),
        "report": _timed(lambda: quarterly_report(departments, quarters=4, everything=True), 3),
    }
    client = Client()
    client.force_login(leader)
    baseline = _samples(client, "/healthz", times)
    pages = [
        ("dashboards.board", "/dashboard/"),
        ("dashboards.department", f"/dashboard/departments/{department.code}/"),
        ("dashboards.report", "/reports/?quarters=4"),
    ]
    rows = [_row(name, size, _samples(client, url, times), baseline, url) for name, url in pages]
    for (name, url), row in list(zip(pages, rows, strict=True)):
        kind = name.split(".")[1]
        stored_ms = row["median_ms"]
        row["note"] += f"; {statistics.median(live[kind]) / stored_ms:.0f}× faster than live"
        rows.append(_row(f"{name}_live", size, live[kind], baseline,
                         f"{url} computed live in process (before stored figures)"))
    rows.append(_row("dashboards.refresh_figures", size, refresh, live["board"],
                     "one run of the refresh job (beat, every "
                     f"{settings.SRM_FIGURES_REFRESH_SECONDS} s)", baseline_name="live board"))
    rows.append(_row("dashboards.refresh_open_work", size, recount, live["board"],
                     "one run of the open-work job (beat, every minute)",
                     baseline_name="live board"))
    if department.head_id:
        head = Client()
        head.force_login(department.head)
        rows.append(_row("dashboards.board_head", size, _samples(head, "/dashboard/", times),
                         baseline, "/dashboard/ as the head"))
    for row in rows:
        print(f"{row['scenario']:<24} {row['median_ms']:>9.1f} ms median, "
              f"{row['p95_ms']:>9.1f} ms p95  ({row['note']})", file=sys.stderr)
    return rows
