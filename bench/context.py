"""What a scenario module receives, and the helpers scenarios share.

A scenario is ``bench/scenarios/<name>.py`` exposing ``run(ctx) -> list[dict]``. The runner
calls it in a fresh process, once per data set size, with Django already set up against
``ctx.database_url`` (a database holding ``ctx.sizes[0]`` generated requests) — so
``ctx.sizes`` has one element. A module that sets ``SIZED = False`` runs once, not per size.
Each result dict has the keys of ``result()`` below.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BenchContext:
    database_url: str
    quick: bool
    sizes: list[int]


def peak_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile; ``p`` in 0..100."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(fn: Callable[[int], object], times: int) -> list[float]:
    """Call ``fn(i)`` ``times`` times; the wall time of each call in milliseconds."""
    samples = []
    for i in range(times):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def timed_with_cpu(fn: Callable[[int], object], times: int) -> tuple[list[float], list[float]]:
    """``timed``, with the CPU time this process spent in each call (ms) beside the wall time:
    on a shared machine the wall time also counts the waiting for a core, the CPU time does
    not (the database server's work is in the wall time only: it runs in its own process)."""
    walls, cpus = [], []
    for i in range(times):
        started, cpu = time.perf_counter(), time.process_time()
        fn(i)
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def result(scenario: str, size: int, samples: list[float], *, baseline: str,
           baseline_samples: list[float] | None = None, baseline_median_ms: float | None = None,
           **extra) -> dict:
    """One row of the table from raw samples (ms) and the baseline measured in the same run."""
    median = statistics.median(samples) if samples else float("nan")
    if baseline_median_ms is None:
        baseline_median_ms = statistics.median(baseline_samples) if baseline_samples else float("nan")
    row = {
        "scenario": scenario,
        "size": size,
        "median_ms": round(median, 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "peak_mb": round(peak_mb(), 1),
        "baseline": baseline,
        "baseline_median_ms": round(baseline_median_ms, 3),
        "ratio": round(median / baseline_median_ms, 2) if baseline_median_ms else float("nan"),
    }
    row.update({k: v for k, v in extra.items() if v is not None})
    return row
