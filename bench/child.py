"""Run one scenario in this process: ``python -m bench.child NAME JSON_CONTEXT OUT_FILE``.

The runner starts one of these per scenario and size, so each scenario gets a clean Django
set up against its database, its own peak-memory figure, and cannot take the others down.
"""

import importlib
import json
import os
import sys
import traceback

from bench.context import BenchContext, peak_mb


def main() -> int:
    name, raw_ctx, out = sys.argv[1:4]
    ctx = BenchContext(**json.loads(raw_ctx))
    os.environ["DATABASE_URL"] = ctx.database_url
    # Production settings with static files referenced unhashed (no collectstatic needed).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.http_settings")
    import django

    django.setup()
    try:
        module = importlib.import_module(f"bench.scenarios.{name}")
        rows = module.run(ctx)
        payload = {"results": rows, "peak_mb": peak_mb()}
        status = 0
    except Exception:
        payload = {"error": traceback.format_exc(), "peak_mb": peak_mb()}
        status = 1
    with open(out, "w") as fh:
        json.dump(payload, fh, default=str)
    return status


if __name__ == "__main__":
    sys.exit(main())
