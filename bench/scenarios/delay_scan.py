"""Benchmark: the delay scan on 100,000 and 1,000,000 steps (20 % active, 2 % overdue).

For each size, in a scratch PostgreSQL database created and dropped here:

- ``delay_scan.first``: one ``flag_delays`` run that opens every risk (20,000 at 1M steps),
  with their postings, audit events and notifications;
- ``delay_scan.refresh``: the steady state during business hours, every risk's figures moving
  (a run 15 minutes later);
- ``delay_scan.no_change``: a second run at the same moment, nothing to do;

each against the naive way (a Python loop over the active steps through the ORM, a query or
three per overdue step) for the ratio. Runs that would change data run inside a transaction
that is rolled back, so every repeat starts from the same state. Data are generated in one
process and measured in a fresh one, whose peak RSS is the "worker memory" figure.

    python -m bench.scenarios.delay_scan [--quick] [--sizes 100000,1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = [100_000, 1_000_000]
ACTIVE_SHARE, OVERDUE_SHARE, STEPS_PER_REQUEST = 0.20, 0.02, 4


# --- The parent: scratch database, children, results ---------------------------------------
def run(ctx) -> list[dict]:
    sizes = list(getattr(ctx, "sizes", None) or DEFAULT_SIZES)
    quick = bool(getattr(ctx, "quick", False))
    repeats = 1 if quick else 3
    results = []
    for size in sizes:
        scratch = _scratch_url(ctx.database_url, size)
        _admin_sql(ctx.database_url, f'DROP DATABASE IF EXISTS "{_name(scratch)}" WITH (FORCE)')
        _admin_sql(ctx.database_url, f'CREATE DATABASE "{_name(scratch)}"')
        try:
            now = _business_afternoon().isoformat()
            _child("generate", scratch, size=size, now=now)
            results += _child("measure", scratch, size=size, now=now, repeats=repeats)
        finally:
            _admin_sql(ctx.database_url, f'DROP DATABASE IF EXISTS "{_name(scratch)}" WITH (FORCE)')
    return results


def _business_afternoon() -> datetime:
    """The last weekday at 15:00 Berlin (09:00 New York): every calendar's clock is running."""
    tz = ZoneInfo("Europe/Berlin")
    day = datetime.now(tz).date() - timedelta(days=1)
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=tz)


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _scratch_url(url: str, size: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/srm_bench_delay_{size}_{os.getpid()}"))


def _admin_sql(url: str, sql: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def _child(mode: str, scratch: str, **options) -> list[dict]:
    args = [sys.executable, "-m", "bench.scenarios.delay_scan", "--child", mode,
            "--database-url", scratch]
    for key, value in options.items():
        args += [f"--{key}", str(value)]
    env = {**os.environ, "DATABASE_URL": scratch, "DJANGO_SETTINGS_MODULE": "srm.settings",
           "LOG_LEVEL": "WARNING", "SRM_VAR_DIR": str(ROOT / "var" / "bench")}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"delay_scan {mode} failed:\n{done.stderr[-4000:]}")
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(last)


# --- Child: generate ------------------------------------------------------------------------
GENERATE_SQL = """
INSERT INTO requests_app_servicerequest (reference, title, requester_id, requester_department_id,
    item_id, answers, estimated_cost, state, source, submitted_at, due_at, closed_at)
SELECT 'SR-B-' || lpad(g::text, 8, '0'), 'Benchmark request ' || g, %(requester)s, %(req_dept)s,
    (%(items)s::bigint[])[1 + g %% cardinality(%(items)s::bigint[])], '{}'::jsonb, 100,
    CASE WHEN g <= %(active)s THEN 'in_progress' ELSE 'fulfilled' END, 'portal',
    %(now)s::timestamptz - (24 + g %% 2000) * interval '1 hour',
    %(now)s::timestamptz + (g %% 300) * interval '1 hour',
    CASE WHEN g <= %(active)s THEN NULL ELSE %(now)s::timestamptz - (g %% 1900) * interval '1 hour' END
FROM generate_series(1, %(requests)s) g;

INSERT INTO approvals_step (request_id, template_id, "order", name, kind, ola_hours, state,
    accountable_department_id, accountable_head_id, activated_at, due_at, completed_at, comment,
    decided_outside, channel)
SELECT r.id, %(template)s, k, 'Step ' || k, CASE WHEN k <= 2 THEN 'approval' ELSE 'execution' END,
    8 * k,
    CASE
      WHEN r.n > %(active)s OR k < r.cur THEN CASE WHEN k <= 2 THEN 'approved' ELSE 'done' END
      WHEN k = r.cur THEN 'active'
      ELSE 'pending'
    END,
    (%(depts)s::bigint[])[1 + (r.n * 7 + k) %% cardinality(%(depts)s::bigint[])],
    (%(heads)s::bigint[])[1 + (r.n * 7 + k) %% cardinality(%(depts)s::bigint[])],
    CASE WHEN r.n > %(active)s OR k <= r.cur THEN %(now)s::timestamptz - (48 + r.n %% 900) * interval '1 hour' END,
    CASE
      WHEN r.n <= %(overdue)s AND k = r.cur THEN %(now)s::timestamptz - (30 + (r.n * 37) %% 43200) * interval '1 minute'
      WHEN r.n <= %(active)s AND k = r.cur THEN %(now)s::timestamptz + (30 + (r.n * 37) %% 28800) * interval '1 minute'
      WHEN r.n > %(active)s OR k < r.cur THEN %(now)s::timestamptz - (40 + r.n %% 900) * interval '1 hour'
    END,
    CASE WHEN r.n > %(active)s OR k < r.cur THEN %(now)s::timestamptz - (24 + r.n %% 800) * interval '1 hour' END,
    '', false, CASE WHEN k <= 2 AND (r.n > %(active)s OR k < r.cur) THEN 'page' ELSE '' END
FROM (SELECT id, id - %(first_id)s + 1 AS n, 1 + (id %% 4) AS cur FROM requests_app_servicerequest) r
CROSS JOIN generate_series(1, 4) k;
"""


def _generate(size: int, now: datetime) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from approvals.models import StepTemplate
    from demo.organisation import seed_organisation
    from governance.models import Department, User
    from requests_app.models import CatalogItem

    call_command("migrate", verbosity=0)
    seed_organisation()
    # Several calendars, as in a real organisation.
    Department.objects.filter(code="IT").update(timezone="America/New_York", holiday_country="US")
    Department.objects.filter(code="FAC").update(timezone="Europe/London", holiday_country="GB")
    requests = size // STEPS_PER_REQUEST
    departments = list(Department.objects.exclude(head=None).order_by("pk").values_list("pk", "head_id"))
    params = {
        "requester": User.objects.get(username="alice").pk,
        "req_dept": Department.objects.get(code="MKT").pk,
        "items": list(CatalogItem.objects.values_list("pk", flat=True)),
        "template": StepTemplate.objects.values_list("pk", flat=True).first(),
        "depts": [d for d, _ in departments],
        "heads": [h for _, h in departments],
        "requests": requests,
        "active": int(size * ACTIVE_SHARE),
        "overdue": int(size * OVERDUE_SHARE),
        "now": now,
        "first_id": 1,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        first_sql, steps_sql = [s for s in GENERATE_SQL.split(";") if s.strip()]
        cursor.execute(first_sql, params)
        cursor.execute("SELECT min(id) FROM requests_app_servicerequest")
        params["first_id"] = cursor.fetchone()[0]
        cursor.execute(steps_sql, params)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT state, count(*), count(*) FILTER (WHERE due_at < %s) "
                       "FROM approvals_step GROUP BY state", [now])
        counts = {state: [n, late] for state, n, late in cursor.fetchall()}
    return {"seconds": round(time.perf_counter() - started, 1), "steps": counts}


# --- Child: measure -------------------------------------------------------------------------
def _naive_scan(now: datetime) -> int:
    """The scan as a first version would write it: every active step through the ORM."""
    from accountability.delays import hours_of, money, risk_level
    from accountability.models import DelayPosting, DelayRisk
    from approvals.models import Step
    from governance.services.audit import audit_record

    touched = 0
    steps = Step.objects.filter(state="active").select_related(
        "accountable_department", "request__item").iterator(chunk_size=2000)
    for step in steps:
        if step.on_hold_since or step.due_at >= now:
            continue
        calendar = step.accountable_department.calendar
        seconds = Decimal(calendar.between(step.due_at, now).total_seconds())
        risk = DelayRisk.objects.filter(step=step, resolved_at__isnull=True).first()
        new = risk is None
        if new:
            risk = DelayRisk(step=step, request=step.request, department=step.accountable_department,
                             head_id=step.accountable_head_id, detected_at=now, refreshed_at=now,
                             cost_of_delay_per_day=step.request.item.cost_of_delay_per_day,
                             day_seconds=calendar.day_seconds, posted_until=step.due_at)
        exposure = money(seconds, per_day=risk.cost_of_delay_per_day, day_seconds=risk.day_seconds)
        level = max(risk.level or 1, risk_level(overdue_hours=hours_of(seconds),
                                                ola_hours=step.ola_hours, day_hours=risk.day_hours))
        if not new and (seconds, level) == (risk.overdue_seconds, risk.level):
            continue
        old_level, old_seconds, old_exposure = risk.level, risk.overdue_seconds, risk.exposure
        risk.overdue_seconds, risk.overdue_hours = seconds, hours_of(seconds)
        risk.exposure, risk.level, risk.refreshed_at, risk.posted_until = exposure, level, now, now
        risk.save()
        quarter = now.date().replace(day=1, month=1 + 3 * ((now.month - 1) // 3))
        DelayPosting.objects.create(
            risk=risk, department_id=risk.department_id, head_id=risk.head_id, quarter=quarter,
            period=quarter, seconds=seconds - old_seconds, amount=exposure - old_exposure,
            posted_at=now, reason="scan")
        if new or level != old_level:
            audit_record(actor=None, verb="risk.raised" if new else "risk.escalated", target=risk,
                         correlation=step.request.reference, at=now)
        touched += 1
    return touched


# The tables a scan writes: a rolled-back repeat leaves its row versions behind in them.
SCAN_TABLES = ("governance_delayrisk", "accountability_delayposting", "governance_auditevent",
               "governance_auditchainhead", "governance_notification", "operations_outboxtask")


def _timed(fn, repeats: int, *, rollback: bool) -> list[float]:
    from django.db import connection, transaction

    samples = []
    for _ in range(repeats):
        with transaction.atomic():
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
            if rollback:
                transaction.set_rollback(True)
        if rollback:
            # The dead rows of the rolled-back run would slow the next one down (its unique
            # index checks visit them), which no real scan meets: every repeat starts from
            # the same state, so they go before it (outside the timing).
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM {', '.join(SCAN_TABLES)}")
    return samples


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _row(scenario, size, samples, peak, baseline, base_samples) -> dict:
    median = statistics.median(samples)
    base = statistics.median(base_samples)
    return {
        "scenario": scenario, "size": size,
        "median_ms": round(median, 1),
        "p95_ms": round(sorted(samples)[max(0, round(0.95 * len(samples)) - 1)], 1),
        "peak_mb": round(peak, 1),
        "baseline": baseline, "baseline_median_ms": round(base, 1),
        "ratio": round(base / median, 1) if median else 0.0,
    }


def _measure(size: int, now: datetime, repeats: int) -> list[dict]:
    from django.db import connection

    from accountability.services.risks import flag_delays

    connection.ensure_connection()
    later = now + timedelta(minutes=15)
    # A worker is a long-lived process: load the holiday tables and warm the caches first.
    _timed(lambda: flag_delays(now=now), 1, rollback=True)
    first = _timed(lambda: flag_delays(now=now), max(repeats - 1, 0), rollback=True)
    first += _timed(lambda: flag_delays(now=now), 1, rollback=False)  # keep the risks
    peak_first = _peak_mb()
    refresh = _timed(lambda: flag_delays(now=later), repeats, rollback=True)
    no_change = _timed(lambda: flag_delays(now=now), repeats, rollback=True)
    peak = _peak_mb()

    def naive_first():
        with connection.cursor() as cursor:  # the state before any scan, inside the rollback
            cursor.execute("TRUNCATE accountability_delayposting, governance_delayrisk, "
                           "governance_notification CASCADE")
        started = time.perf_counter()
        _naive_scan(now)
        return (time.perf_counter() - started) * 1000

    from django.db import transaction

    naive = "naive ORM loop over active steps"
    if os.environ.get("SRM_BENCH_SKIP_BASELINE"):
        # For quick iterations on the scan only; `make bench` always measures the baseline.
        base_first = base_refresh = base_none = [0.0]
        naive += " (skipped)"
    else:
        with transaction.atomic():
            base_first = [naive_first()]
            transaction.set_rollback(True)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {', '.join(SCAN_TABLES)}")
        base_refresh = _timed(lambda: _naive_scan(later), 1, rollback=True)
        base_none = _timed(lambda: _naive_scan(now), 1, rollback=True)
    return [
        _row("delay_scan.first", size, first, peak_first, naive, base_first),
        _row("delay_scan.refresh", size, refresh, peak, naive, base_refresh),
        _row("delay_scan.no_change", size, no_change, peak, naive, base_none),
    ]


# --- Command line ---------------------------------------------------------------------------
def _table(rows: list[dict]) -> str:
    head = f"{'scenario':24} {'size':>9} {'median ms':>10} {'p95 ms':>9} {'peak MB':>8} {'naive ms':>10} {'ratio':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['scenario']:24} {r['size']:>9,} {r['median_ms']:>10,.1f} {r['p95_ms']:>9,.1f} "
                     f"{r['peak_mb']:>8.1f} {r['baseline_median_ms']:>10,.1f} {r['ratio']:>6.1f}×")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default="")
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--child", choices=["generate", "measure"])
    parser.add_argument("--size", type=int)
    parser.add_argument("--now")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        now = datetime.fromisoformat(args.now)
        if args.child == "generate":
            out = _generate(args.size, now)
            print(f"generated {args.size:,} steps in {out['seconds']} s: {out['steps']}",
                  file=sys.stderr)
            print(json.dumps([]))
        else:
            print(json.dumps(_measure(args.size, now, args.repeats)))
        return
    if not args.database_url.startswith("postgres"):
        sys.exit("The delay-scan benchmark needs PostgreSQL: --database-url postgres://…")
    sizes = [int(s) for s in args.sizes.split(",") if s] or DEFAULT_SIZES
    rows = run(SimpleNamespace(database_url=args.database_url, quick=args.quick, sizes=sizes))
    print(_table(rows))


if __name__ == "__main__":
    main()
