"""Benchmark: import a 100,000-row legacy tracker export (CSV), checked in full then imported
in batches, and compare its per-row time with a 10,000-row baseline (linear growth means a
ratio near 1.0). Peak memory is the importing process's maximum resident set size: it must
not grow with the file (rows are streamed, never all held).

    run(ctx) -> list[dict]      ctx: database_url, quick, sizes (attributes or keys)
    python -m bench.scenarios.legacy_import [--quick] [--sizes 100000]
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SCENARIO = "legacy_import"
FULL_SIZES = [100_000]
# Runs once per `make bench`, at its own file sizes: the data set's size (the runner's
# ``sizes``) says nothing about how big an import file is.
SIZED = False
QUICK_SIZES = [5_000]
BASELINE = 10_000
QUICK_BASELINE = 1_000
STATUSES = ["fulfilled"] * 14 + ["rejected"] * 2 + ["cancelled", "in_progress", "in_progress",
                                                    "open"]
REQUESTERS = ["alice", "bob", "carol", "dave", "erin"]
MODELS = ["13-inch standard", "15-inch performance", "Developer workstation"]


def _get(ctx, name, default=None):
    if ctx is None:
        return default
    if isinstance(ctx, dict):
        return ctx.get(name, default)
    return getattr(ctx, name, default)


def _setup(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "srm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from demo.organisation import seed_organisation

    call_command("migrate", verbosity=0)
    seed_organisation()


def write_file(path: Path, rows: int, tag: str, seed: int = 11) -> None:
    """A tracker export of ``rows`` laptop requests over the past year."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["requester", "title", "answer.details", "answer.model", "estimated_cost",
                         "submitted_at", "status", "external_id", "closed_at"])
        for i in range(rows):
            submitted = now - timedelta(days=rng.uniform(20, 365))
            status = rng.choice(STATUSES)
            closed = ""
            if status in ("fulfilled", "rejected", "cancelled"):
                closed = (submitted + timedelta(hours=rng.uniform(4, 300))).isoformat(
                    timespec="seconds")
            writer.writerow([rng.choice(REQUESTERS), f"Laptop {i}", "From the old sheet",
                             rng.choice(MODELS), rng.randint(300, 9000),
                             submitted.isoformat(timespec="seconds"), status, f"{tag}-{i}",
                             closed])


def _import_child(path: str, conn) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    from accountability.services.legacy_import import legacy_import
    from requests_app.models import CatalogItem

    item = CatalogItem.objects.get(code="laptop")
    started = time.perf_counter()
    report = legacy_import(path=path, item=item)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send((elapsed, usage.ru_maxrss / 1024, report.imported, len(report.errors),
               usage.ru_utime + usage.ru_stime))
    conn.close()


def _measure(rows: int, repeats: int, workdir: Path) -> tuple[list[float], float]:
    """Import fresh files of ``rows`` rows ``repeats`` times, each in a forked process so its
    peak memory is its own. Returns the times (ms) and the highest peak (MB)."""
    from django.db import connections

    times, peaks = [], []
    fork = multiprocessing.get_context("fork")
    for attempt in range(repeats):
        tag = f"bench-{os.getpid()}-{time.time_ns()}-{attempt}"
        path = workdir / f"{tag}.csv"
        write_file(path, rows, tag)
        connections.close_all()
        parent, child = fork.Pipe(duplex=False)
        process = fork.Process(target=_import_child, args=(str(path), child))
        process.start()
        elapsed, peak_mb, imported, errors, cpu = parent.recv()
        process.join()
        path.unlink()
        if errors or imported != rows:
            raise RuntimeError(f"import of {rows} rows: {imported} imported, {errors} errors")
        times.append(elapsed * 1000)
        # CPU time of the importing process: wall time minus waiting (database, other load).
        print(f"{SCENARIO}: {rows} rows in {elapsed:.1f} s wall, {cpu:.1f} s CPU in the "
              f"importer, peak {peak_mb:.0f} MB", file=sys.stderr)
        peaks.append(peak_mb)
    return times, max(peaks)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(ctx=None) -> list[dict]:
    """From the runner: import into a scratch database next to the data set (so the data
    set keeps its size), in a fresh process set up against it; standalone: right here."""
    url = _get(ctx, "database_url")
    if url and not _get(ctx, "in_scratch", False):
        return _in_scratch(ctx, url)
    return _run(ctx)


def _in_scratch(ctx, url: str) -> list[dict]:
    import subprocess
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"srm_bench_import_{os.getpid()}"
    scratch = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))

    def admin_sql(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            args = [sys.executable, "-m", "bench.scenarios.legacy_import", "--json", out.name]
            if _get(ctx, "quick", False):
                args.append("--quick")
            subprocess.run(args, check=True, cwd=Path(__file__).resolve().parents[2],
                           env={**os.environ, "DATABASE_URL": scratch})
            return json.loads(Path(out.name).read_text())
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(ctx=None) -> list[dict]:
    quick = bool(_get(ctx, "quick", False))
    _setup(_get(ctx, "database_url"))
    sizes = list(_get(ctx, "import_sizes", None) or (QUICK_SIZES if quick else FULL_SIZES))
    baseline_rows = QUICK_BASELINE if quick else BASELINE
    repeats = 2 if quick else 1
    results = []
    with tempfile.TemporaryDirectory(prefix="srm-bench-import-") as tmp:
        workdir = Path(tmp)
        base_times, base_peak = _measure(baseline_rows, repeats, workdir)
        base_median = statistics.median(base_times)
        label = f"{baseline_rows} rows"
        results.append(_row(baseline_rows, base_times, base_peak, label, base_median, 1.0))
        for size in sizes:
            times, peak = _measure(size, repeats, workdir)
            median = statistics.median(times)
            ratio = (median / size) / (base_median / baseline_rows)
            results.append(_row(size, times, peak, label, base_median, ratio))
    for r in results:
        print(f"{SCENARIO}: {r['size']:>7} rows  median {r['median_ms'] / 1000:8.1f} s  "
              f"({r['median_ms'] / r['size']:.2f} ms/row)  peak {r['peak_mb']:.0f} MB  "
              f"per-row ratio vs {r['baseline']}: {r['ratio']:.2f}")
    return results


def _row(size, times, peak, baseline, baseline_median, ratio) -> dict:
    return {
        "scenario": SCENARIO,
        "size": size,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(_p95(times), 1),
        "peak_mb": round(peak, 1),
        "baseline": baseline,
        "baseline_median_ms": round(baseline_median, 1),
        "ratio": round(ratio, 3),
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--json", help="also write the result rows to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    rows = _run({"database_url": os.environ.get("DATABASE_URL"), "quick": args.quick,
                 "import_sizes": args.sizes, "in_scratch": True})
    if args.json:
        Path(args.json).write_text(json.dumps(rows))
