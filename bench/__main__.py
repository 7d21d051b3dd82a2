"""python -m bench [--quick] [--only NAME]: run every scenario in bench/scenarios.

Each scenario module exposes ``run(ctx) -> list[dict]``; ``ctx`` carries ``database_url``,
``quick`` and ``sizes`` (None: the scenario's own sizes).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
from types import SimpleNamespace

from bench import scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description="SRM benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", help="run only this scenario module")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    ctx = SimpleNamespace(database_url=os.environ.get("DATABASE_URL"), quick=args.quick,
                          sizes=None)
    results = []
    for module in sorted(m.name for m in pkgutil.iter_modules(scenarios.__path__)):
        if args.only and module != args.only:
            continue
        results.extend(importlib.import_module(f"bench.scenarios.{module}").run(ctx))
    print(f"{'scenario':<20} {'size':>8} {'median ms':>12} {'p95 ms':>12} {'peak MB':>8} "
          f"{'ratio':>6}  baseline")
    for r in results:
        print(f"{r['scenario']:<20} {r['size']:>8} {r['median_ms']:>12.1f} {r['p95_ms']:>12.1f} "
              f"{r['peak_mb']:>8.1f} {r['ratio']:>6.2f}  {r['baseline']}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
