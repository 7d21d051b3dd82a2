"""The benchmark runner: ``python -m bench [--quick] [--only NAME,…] [--sizes 100000,1000000]``.

Makes sure PostgreSQL answers (the way CI starts it), prepares one database per data set
size (generated once with ``generate_load`` and reused while its marker matches), runs every
``bench/scenarios/*.py`` in its own process per size, prints one table and writes it as JSON
to ``bench/results/<timestamp>.json`` and ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCENARIOS = ROOT / "bench" / "scenarios"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/srm_bench"
QUICK_SIZE = 5_000
SEED = 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"small data ({QUICK_SIZE:,} requests) and short runs: a few minutes")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--sizes", default="", help="comma-separated request counts "
                        "(default 100000,1000000, or 5000 with --quick)")
    parser.add_argument("--fresh", action="store_true",
                        help="regenerate the data sets even when a matching one exists")
    args = parser.parse_args(argv)
    if args.sizes:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    else:
        # Both sizes by default, so the growth with size is visible in one table.
        args.sizes = [QUICK_SIZE] if args.quick else [100_000, 1_000_000]
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    return args


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- PostgreSQL and the data sets ------------------------------------------------------------
def base_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_URL


def ensure_postgres() -> None:
    ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0
    if not ready:
        log("PostgreSQL does not answer: starting it like CI does (.ci/run --services-only)")
        subprocess.run(["bash", str(ROOT / ".ci" / "run"), "--services-only"], check=True,
                       stdin=subprocess.DEVNULL)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def psql(url: str, sql: str) -> str:
    admin = with_database(url, "postgres")
    done = subprocess.run(["psql", admin, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def prepare_dataset(url: str, size: int, fresh: bool) -> tuple[str, dict]:
    """The URL of a database holding ``size`` generated requests, generating it if needed."""
    name = f"{urlsplit(url).path.lstrip('/') or 'srm_bench'}_{size}"
    target = with_database(url, name)
    marker = f"srm-bench requests={size} seed={SEED}"
    env = {**os.environ, "DATABASE_URL": target}
    manage = [sys.executable, str(ROOT / "manage.py")]
    current = psql(url, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                   f"WHERE datname = '{name}'")
    if current == marker and not fresh:
        log(f"reusing data set {name} ({size:,} requests)")
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
        return target, {"database": name, "generated": False}
    log(f"generating data set {name} ({size:,} requests)")
    psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(url, f'CREATE DATABASE "{name}"')
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    started = time.monotonic()
    subprocess.run([*manage, "generate_load", "--requests", str(size), "--seed", str(SEED)],
                   env=env, check=True)
    seconds = time.monotonic() - started
    psql(url, f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    log(f"generated {size:,} requests in {seconds:.0f} s")
    return target, {"database": name, "generated": True, "seconds": round(seconds, 1),
                    "requests_per_s": round(size / seconds)}


# --- Scenarios ---------------------------------------------------------------------------------
def discover(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in SCENARIOS.glob("*.py") if not p.stem.startswith("_"))
    unknown = set(only) - set(names)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(names)}")
    return [n for n in names if not only or n in only]


def is_sized(name: str) -> bool:
    source = (SCENARIOS / f"{name}.py").read_text()
    return "SIZED = False" not in source


def run_scenario(name: str, url: str, size: int, quick: bool) -> tuple[list[dict], str | None]:
    ctx = {"database_url": url, "quick": quick, "sizes": [size]}
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    started = time.monotonic()
    log(f"running {name} at {size:,} requests")
    subprocess.run([sys.executable, "-m", "bench.child", name, json.dumps(ctx), str(path)],
                   cwd=ROOT, check=False, env={**os.environ, "DATABASE_URL": url})
    try:
        payload = json.loads(path.read_text() or "{}")
    except json.JSONDecodeError:
        payload = {}
    finally:
        path.unlink(missing_ok=True)
    log(f"{name} took {time.monotonic() - started:.0f} s")
    if "results" not in payload:
        return [], payload.get("error") or "the scenario process died without a result"
    rows = payload["results"] or []
    for row in rows:
        row.setdefault("size", size)
        row.setdefault("peak_mb", round(payload.get("peak_mb", float("nan")), 1))
    return rows, None


def derived_rows(rows: list[dict]) -> list[dict]:
    """Submissions over HTTP as a fraction of the raw-SQL limit, when both ran."""
    extra = []
    limits = {r["size"]: r for r in rows if r["scenario"] == "raw_sql.pgbench_submit"}
    for row in rows:
        if row["scenario"].startswith("http.submit") and row.get("rps") and row["size"] in limits:
            limit = limits[row["size"]]
            extra.append({
                "scenario": f"{row['scenario']} vs raw SQL", "size": row["size"],
                "median_ms": row["median_ms"], "p95_ms": row["p95_ms"], "peak_mb": row["peak_mb"],
                "baseline": "pgbench replay of its writes",
                "baseline_median_ms": limit["baseline_median_ms"],
                "ratio": round(limit["rps"] / row["rps"], 2),
                "rps": row["rps"],
                "note": f"{row['rps'] / limit['rps']:.0%} of the raw-SQL limit "
                        f"({limit['rps']:.0f} tx/s)",
            })
    return extra


# --- Output ------------------------------------------------------------------------------------
def fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(rows: list[dict]) -> str:
    headers = ["scenario", "size", "median ms", "p95 ms", "p99 ms", "req/s", "peak MB",
               "baseline", "baseline ms", "ratio", "note"]
    lines = [[r["scenario"], fmt(r["size"] or None), fmt(r["median_ms"], 2), fmt(r["p95_ms"], 2),
              fmt(r.get("p99_ms"), 2), fmt(r.get("rps"), 0), fmt(r["peak_mb"], 0), r["baseline"],
              fmt(r["baseline_median_ms"], 2), fmt(r["ratio"], 2), r.get("note", "")]
             for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
              for i, h in enumerate(headers)]
    right = {1, 2, 3, 4, 5, 6, 8, 9}

    def render(cells):
        return " | ".join(c.rjust(w) if i in right else c.ljust(w)
                          for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([render(headers), rule, *(render(line) for line in lines)])


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    pg = ""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        pg = psql(base_url(), "SHOW server_version")
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "os": platform.platform(), "python": platform.python_version(), "postgresql": pg}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    names = discover(args.only)
    ensure_postgres()
    url = base_url()
    started = datetime.now(UTC)
    rows: list[dict] = []
    failures: dict[str, str] = {}
    datasets: dict[int, dict] = {}
    unsized_done: set[str] = set()
    for size in args.sizes:
        target, datasets[size] = prepare_dataset(url, size, args.fresh)
        for name in names:
            if not is_sized(name):
                if name in unsized_done:
                    continue
                unsized_done.add(name)
            found, error = run_scenario(name, target, size, args.quick)
            rows.extend(found)
            if error:
                failures[f"{name}@{size}"] = error
                log(f"{name} FAILED at {size:,}:\n{error}")
    rows.extend(derived_rows(rows))
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {"quick": args.quick, "sizes": args.sizes, "only": args.only},
        "machine": machine(),
        "datasets": {str(k): v for k, v in datasets.items()},
        "results": rows,
        "failures": failures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str) + "\n"
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(table(rows))
    for name, error in failures.items():
        print(f"\nFAILED {name}: {error.strip().splitlines()[-1]}")
    print(f"\nWritten to bench/results/{stamp}.json and bench/results/latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
