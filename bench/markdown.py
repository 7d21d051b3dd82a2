"""Print bench/results/latest.json (or the file given) as a Markdown table, for the docs:
``python -m bench.markdown [FILE]``."""

import json
import sys
from pathlib import Path

from bench.__main__ import RESULTS, fmt


def main(path: Path) -> None:
    report = json.loads(path.read_text())
    m = report["machine"]
    print(f"Run {report['started_at']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
          f"PostgreSQL {m['postgresql']}, Python {m['python']}; args {report['args']}.\n")
    print("| scenario | size | median ms | p95 ms | p99 ms | req/s | peak MB | baseline | "
          "baseline ms | ratio | note |")
    print("|---|--:|--:|--:|--:|--:|--:|---|--:|--:|---|")
    for r in report["results"]:
        cells = [r["scenario"], fmt(r["size"] or None), fmt(r["median_ms"], 2),
                 fmt(r["p95_ms"], 2), fmt(r.get("p99_ms"), 2), fmt(r.get("rps"), 0),
                 fmt(r["peak_mb"], 0), r["baseline"], fmt(r["baseline_median_ms"], 2),
                 fmt(r["ratio"], 2), r.get("note", "").replace("|", "/")]
        print("| " + " | ".join(cells) + " |")
    for name, error in report.get("failures", {}).items():
        print(f"\nFailed: {name}: {error.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json")
