"""The test suite's own wall time (without the browser tests). Baseline: collection only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.context import result

SIZED = False
ROOT = Path(__file__).resolve().parents[2]


def _pytest(*extra: str, database_url: str) -> tuple[float, str]:
    # pytest.ini's test settings (fast password hasher), not the server's the child set up.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DATABASE_URL"] = database_url
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not browser",
         *extra], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else done.stderr.strip()[-200:]
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "ERROR"))]
    if failed:  # name them: a failure in the timed run is a finding, not just a number
        print("\n".join(failed), file=sys.stderr)
        summary += " — " + "; ".join(failed)
    return seconds * 1000, summary


def run(ctx) -> list[dict]:
    collect_ms, _ = _pytest("--co", database_url=ctx.database_url)
    suite_ms, summary = _pytest(database_url=ctx.database_url)
    return [result("suite_time.pytest", 0, [suite_ms], baseline="pytest --co (collection)",
                   baseline_samples=[collect_ms], note=summary)]
