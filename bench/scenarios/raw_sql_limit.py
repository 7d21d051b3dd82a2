"""The physical limit: the writes of one submission replayed as raw SQL with pgbench.

One ``request_submit`` runs under ``CaptureQueriesContext``; its INSERT/UPDATE statements
become a pgbench script (the counter's and the inserts' RETURNING values are captured with
``\\gset`` and substituted where the app used them), run by as many clients as the app gets.
A second replay without the per-year reference counter shows what its row lock costs.
Then the app's own submissions/s through the service layer, with the same number of
processes, as a fraction of it. (Through HTTP: the runner adds that row when http_load ran.)
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from decimal import Decimal
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.context import result
from bench.scenarios._org import answers_for, items, requesters
from requests_app.services import request_submit

CLIENTS = 4


def _capture() -> tuple[list[str], object, list[tuple[int, int]]]:
    """The SQL of one submission (rolled back) and the request it made."""
    people, catalog = requesters(5), items()
    item = next(i for i in catalog if len(i.path.templates.all()) >= 3)

    class Rollback(Exception):
        pass

    with CaptureQueriesContext(connection) as captured:
        try:
            with transaction.atomic():
                request = request_submit(actor=people[0], item=item, answers=answers_for(item),
                                         estimated_cost=Decimal("8000"))
                step_ids = list(request.steps.values_list("id", "order"))
                raise Rollback
        except Rollback:
            pass
    sql = [q["sql"] for q in captured.captured_queries
           if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
           or _is_reference(q["sql"])]
    return sql, request, step_ids


def _script(statements: list[str], request, step_ids: list[tuple[int, int]]) -> str:
    year, number = request.reference.split("-")[1:]
    lines = ["BEGIN;"]
    for sql in statements:
        text = sql.replace(request.reference, f"SR-{year}-:c_value")
        text = re.sub(rf"\b{request.pk}\b", ":r_id", text)
        for sid, order in step_ids:
            text = re.sub(rf"\b{sid}\b", f":s{order}", text)
        upper = text.upper()
        if _is_reference(text):
            # The reference number: the year's sequence (PostgreSQL) or the counter row.
            lines.append(_reference_value(text) + r" \gset c_")
        elif "REQUESTS_APP_SERVICEREQUEST" in upper and upper.startswith("INSERT"):
            lines.append(text + r" \gset r_")
        elif '"APPROVALS_STEP"' in upper and upper.startswith("INSERT"):
            # A multi-row INSERT returns several ids: keep them by order for later UPDATEs.
            returning = text.rsplit(" RETURNING ", 1)[0]
            picks = ", ".join(f'max(id) FILTER (WHERE "order" = {o}) AS s{o}' for _, o in step_ids)
            lines.append(f'WITH ins AS ({returning} RETURNING id, "order") SELECT {picks} FROM ins'
                         r" \gset")
        else:
            lines.append(text + ";")
    lines.append("COMMIT;")
    # pgbench reads one statement per line, and \gset ends a statement without a semicolon.
    return "\n".join(line.replace("\n", " ") for line in lines) + "\n"


def _is_reference(sql: str) -> bool:
    upper = sql.lstrip().upper()
    return ("NEXTVAL(" in upper and upper.startswith("SELECT")) or (
        "REQUESTS_APP_REQUESTCOUNTER" in upper and upper.startswith("INSERT"))


def _reference_value(sql: str) -> str:
    """The statement with its one result column named ``value`` (for ``\\gset c_``)."""
    if sql.lstrip().upper().startswith("SELECT"):
        return re.sub(r"^\s*SELECT\s+(.*?)(\s+FROM\s+.*)?$", r"SELECT \1 AS value\2", sql,
                      flags=re.S | re.I)
    return sql


def _without_counter(script: str) -> str:
    """The script with the reference number replaced by a random (practically unique) one."""
    # Twelve digits: thousands of transactions never draw the same number twice (nine
    # digits collided about once in seven runs, and one duplicate aborts pgbench).
    lines = [r"\set c_value random(100000000000, 999999999999)"
             if line.endswith(r"\gset c_") else line
             for line in script.splitlines()]
    return "\n".join(lines) + "\n"


def _pgbench(script: str, seconds: int, database_url: str) -> tuple[float, float]:
    """Transactions/s and the mean latency (ms) pgbench reports."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(script)
        path = fh.name
    parts = urlsplit(database_url)
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
           "PGUSER": parts.username or "postgres", "PGDATABASE": parts.path.lstrip("/")}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    try:
        done = subprocess.run(["pgbench", "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(seconds),
                               "-M", "simple", "-f", path], env=env, capture_output=True,
                              text=True, check=False)
    finally:
        os.unlink(path)
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if done.returncode != 0 or not tps:
        raise RuntimeError(f"pgbench failed: {done.stderr[-800:]}\n{script[:1500]}")
    return float(tps.group(1)), float(latency.group(1)) if latency else float("nan")


def _submit_worker(args) -> list[float]:
    """One process submitting for ``seconds``; returns its call times (ms)."""
    seconds, seed = args
    import django

    django.setup()
    from django.db import connection as conn

    conn.close()
    rng = random.Random(seed)
    people, catalog = requesters(50, seed=seed), items()
    samples, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        item = rng.choice(catalog)
        started = time.perf_counter()
        request_submit(actor=rng.choice(people), item=item, answers=answers_for(item),
                       estimated_cost=Decimal(rng.choice([0, 900, 8000])))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(ctx) -> list[dict]:
    if not shutil.which("pgbench"):
        raise RuntimeError("pgbench is not installed (it comes with the PostgreSQL packages)")
    size = ctx.sizes[0]
    seconds = 5 if ctx.quick else 20
    statements, request, step_ids = _capture()
    script = _script(statements, request, step_ids)
    raw_tps, raw_latency = _pgbench(script, seconds, ctx.database_url)
    # The same writes without drawing the reference number (the year's sequence on
    # PostgreSQL, a counter row elsewhere): what numbering costs.
    free_tps, free_latency = _pgbench(_without_counter(script), seconds, ctx.database_url)
    connection.close()
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
        per_process = pool.map(_submit_worker, [(seconds, 100 + i) for i in range(CLIENTS)])
    wall = time.monotonic() - started
    samples = [s for chunk in per_process for s in chunk]
    app_tps = len(samples) / max(wall, seconds)
    return [
        result("raw_sql.pgbench_submit", size, [raw_latency],
               baseline="itself (the limit)", baseline_median_ms=raw_latency,
               rps=round(raw_tps, 1),
               note=f"{len(statements)} statements/tx, {CLIENTS} clients"),
        result("raw_sql.pgbench_no_counter", size, [free_latency],
               baseline="pgbench with the reference", baseline_median_ms=raw_latency,
               rps=round(free_tps, 1),
               note=f"{free_tps / raw_tps:.2f}× the throughput without drawing the reference"),
        result("raw_sql.services_submit", size, samples,
               baseline="pgbench replay of its writes", baseline_median_ms=raw_latency,
               rps=round(app_tps, 1),
               note=f"{app_tps / raw_tps:.0%} of the raw-SQL limit, {CLIENTS} processes"),
    ]
