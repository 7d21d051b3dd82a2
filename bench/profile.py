"""Where the hot pages and services spend their time: ``python -m bench.profile``.

    python -m bench.profile --database-url postgres://…/srm_bench_100000 [--times 200]
                            [--only my_requests,request_page,…] [--top 10]

Replays the HTTP benchmark's own prepared requests (``bench/scenarios/http_load.py``: the
same people's sessions, tokens, forms and steps) straight through Django's WSGI handler in
this process, with the server's settings (``bench.http_settings``, ``DEBUG=0``), so no
gunicorn, wrk or network is in the picture. For each row it prints the mean time per request
measured without the profiler, the statements per request, and the top functions by their own
time under ``cProfile`` (per request, and as a share of the profiled total). ``submit`` and
``approve`` are ``request_submit`` and ``step_approve`` called in process, as
``bench/scenarios/services.py`` calls them. ``home`` is the signed-in page shell (``GET /``:
session, person, role row, the redirect to their work). The rows write into the data set,
like the benchmark's.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROWS = ["home", "my_requests", "request_page", "board", "submit_portal", "submit_api",
        "approve_api", "submit", "approve"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--times", type=int, default=200, help="requests or calls per row")
    parser.add_argument("--only", default="", help=f"comma-separated rows of {', '.join(ROWS)}")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()] or ROWS
    return args


def _environ(line: str) -> dict:
    method, path, headers, body = line.split("\t")
    data = body.encode()
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0), "CONTENT_LENGTH": str(len(data)),
    }
    for header in filter(None, headers.split("\x1f")):
        name, value = header.split(": ", 1)
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    return environ


def _http_calls(lines: list[str]):
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status[:3]] = statuses.get(status[:3], 0) + 1

    def call(i: int) -> None:
        response = handler(_environ(lines[i % len(lines)]), start_response)
        b"".join(response)
        response.close()

    return call, statuses


def _service_calls(name: str, times: int):
    import random
    from decimal import Decimal

    from approvals.services import step_approve
    from bench.scenarios._org import answers_for, approvable_steps, items, requesters
    from requests_app.services import request_submit

    if name == "submit":
        rng = random.Random(5)
        people, catalog = requesters(200), items()

        def call(i: int) -> None:
            item = rng.choice(catalog)
            request_submit(actor=rng.choice(people), item=item, answers=answers_for(item),
                           estimated_cost=Decimal(rng.choice([0, 300, 2500, 8000, 30000])))
        return call, {}
    steps = approvable_steps(times * 3)

    def approve(i: int) -> None:
        step_approve(actor=steps[i].accountable_head, step=steps[i])
    return approve, {}


def _measure(name: str, call, times: int, top: int) -> str:
    from django.db import connection

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    call(0)  # warm-up: templates compiled, connection open
    with connection.execute_wrapper(count):
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(times):
            call(1 + i)
        plain_ms = (time.perf_counter() - started) * 1000 / times
        cpu_ms = (time.process_time() - cpu) * 1000 / times
    per_request_statements = statements[0] / times
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(times):
        call(1 + times + i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"## {name}: {plain_ms:.2f} ms per request unprofiled ({cpu_ms:.2f} ms of this "
             f"process's CPU), {per_request_statements:.1f} statements, "
             f"profiled {total * 1000 / times:.2f} ms",
             "", "| own ms/req | % | calls/req | function |", "|--:|--:|--:|---|"]
    for (filename, lineno, func), (_cc, ncalls, tottime, _ct, _callers) in rows:
        where = _short(filename)
        label = f"{where}:{lineno} {func}" if lineno else func
        lines.append(f"| {tottime * 1000 / times:.2f} | {tottime / total:.0%} | "
                     f"{ncalls / times:.0f} | `{label}` |")
    # Where the time goes in SRM's own code (own time plus callees'), leaving out the chain
    # every request goes through (handler, middleware: above 60 % of the total) and the
    # bench itself: the functions a change here can make cheaper.
    inclusive = sorted(((ct, key) for key, (_cc, _n, _tt, ct, _c) in stats.stats.items()
                        if ct < 0.6 * total and _ours(key[0])), reverse=True)[:top]
    lines += ["", "| inclusive ms/req | % | calls/req | SRM function |", "|--:|--:|--:|---|"]
    for ct, (filename, lineno, func) in inclusive:
        ncalls = stats.stats[(filename, lineno, func)][1]
        label = f"{_short(filename)}:{lineno} {func}" if lineno else func
        lines.append(f"| {ct * 1000 / times:.2f} | {ct / total:.0%} | {ncalls / times:.0f} | "
                     f"`{label}` |")
    return "\n".join(lines)


def _ours(filename: str) -> bool:
    root = str(Path(__file__).resolve().parent.parent)
    return (filename.startswith(root) and "site-packages" not in filename
            and not filename.startswith(str(Path(root) / "bench")))


def _short(filename: str) -> str:
    path = Path(filename)
    for marker in ("site-packages", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1].lstrip("/")
    try:
        return str(path.relative_to(Path(__file__).resolve().parent.parent))
    except ValueError:
        return filename


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.update({"DEBUG": "0", "HTTPS": "0"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.http_settings")
    import django

    django.setup()
    from accountability.figures import refresh_figures
    from bench.scenarios.http_load import _targets

    targets = {name: lines for name, _desc, lines in _targets(quick=False)}
    out = []
    for name in args.only:
        if name in ("submit", "approve"):
            call, statuses = _service_calls(name, args.times)
        else:
            if name == "board":
                refresh_figures()
            lines = targets[name]
            call, statuses = _http_calls(lines)
        text = _measure(name, call, args.times, args.top)
        if statuses:
            text += "\n\nstatuses: " + ", ".join(f"{n}×{s}" for s, n in sorted(statuses.items()))
        print(text + "\n", flush=True)
        out.append(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
