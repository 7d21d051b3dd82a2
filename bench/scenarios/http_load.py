"""HTTP load: gunicorn (2 × cores + 1 workers) on loopback, driven by wrk from a second process.

Each target replays prepared requests (distinct people's sessions, distinct steps to approve)
for a fixed time with a fixed number of connections and reports requests/s and the latency
percentiles wrk measured. Baseline in the same run and through the same gunicorn:
``GET /healthz`` (the readiness probe: database, broker, cache and migrations, each checked
in a thread of its own); ``GET /healthz/live`` (no dependency touched) is the framework's
floor. A URL that this build does not
serve (404 on the probe) is reported as not available instead of failing the run.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.middleware.csrf import _get_new_csrf_string

from accountability.figures import refresh_figures
from bench.context import peak_mb
from bench.scenarios._org import answers_for, approvable_steps, items, requesters
from governance.models import User
from governance.services.tokens import api_token_create
from requests_app.models import ServiceRequest

ROOT = Path(__file__).resolve().parents[2]
LUA = ROOT / "bench" / "wrk" / "replay.lua"
THREADS = 2
# What a password sign-in records: a session naming a backend that is not configured is
# anonymous (every page would answer its redirect to the sign-in page).
BACKEND = "governance.identity.passwords.LocalPasswordBackend"


# --- gunicorn ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "HTTPS": "0",
            "DJANGO_SETTINGS_MODULE": "bench.http_settings"}


def _start_gunicorn(database_url: str) -> tuple[subprocess.Popen, str]:
    env = _server_env(database_url)
    port = _free_port()
    workers = 2 * (os.cpu_count() or 1) + 1
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "srm.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                return server, base
        except OSError:  # refused, reset, or a worker still booting (timeout)
            time.sleep(0.2)
    _stop(server)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def _workers_peak_mb(server: subprocess.Popen) -> float:
    """The largest peak RSS (VmHWM) among gunicorn's master and workers."""
    pids = [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    peak = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return round(peak, 1)


# --- who acts ----------------------------------------------------------------------------------
def _session_cookie(user: User) -> str:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def _token(user: User) -> str:
    return api_token_create(user=user, name="bench", actor=None)[1]


def _line(method: str, path: str, headers: dict[str, str], body: str = "") -> str:
    joined = "\x1f".join(f"{k}: {v}" for k, v in headers.items())
    return "\t".join([method, path, joined, body])


# --- the targets -------------------------------------------------------------------------------
def _targets(quick: bool) -> list[tuple[str, str, list[str]]]:
    """(name, description, request lines). The first line of each is also its probe."""
    rng = random.Random(11)
    people = requesters(20 if quick else 50)
    cookies = {u.pk: _session_cookie(u) for u in people}
    tokens = {u.pk: _token(u) for u in people}
    catalog = [i for i in items() if list(answers_for(i)) == ["details"]] or items()
    ops_leader = User.objects.filter(is_ops_leader=True).order_by("pk").first()
    targets = [("healthz", "GET /healthz", [_line("GET", "/healthz", {})])]
    # The readiness probe checks the database, the broker, the cache and the migrations, each
    # in a thread of its own with a fresh connection (so a frozen one cannot hang it): the
    # cheapest request that touches no dependency is the liveness probe.
    targets.append(("live", "GET /healthz/live (touches no dependency)", [
        _line("GET", "/healthz/live", {})]))

    targets.append(("home", "GET / (signed in: session, page shell)", [
        _line("GET", "/", {"Cookie": cookies[u.pk]}) for u in people]))
    targets.append(("my_requests", "GET /portal/requests/", [
        _line("GET", "/portal/requests/", {"Cookie": cookies[u.pk]}) for u in people]))
    pages = list(ServiceRequest.objects.filter(requester__in=people)
                 .values_list("reference", "requester_id")[:500])
    targets.append(("request_page", "GET /portal/requests/<reference>/", [
        _line("GET", f"/portal/requests/{ref}/", {"Cookie": cookies[who]}) for ref, who in pages]))
    if ops_leader:
        targets.append(("board", "GET /dashboard/ (ops leader)", [
            _line("GET", "/dashboard/", {"Cookie": _session_cookie(ops_leader)})]))

    csrf = _get_new_csrf_string()
    portal = []
    for i in range(400):
        user, item = people[i % len(people)], rng.choice(catalog)
        body = (f"csrfmiddlewaretoken={csrf}&title=Bench+{i}&estimated_cost={rng.choice([0, 900, 7000])}"
                + "".join(f"&{k}=Needed+for+the+team" for k in answers_for(item)))
        portal.append(_line("POST", f"/portal/new/{item.code}/", {
            "Cookie": f"{cookies[user.pk]}; csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded"}, body))
    targets.append(("submit_portal", "POST /portal/new/<item>/ (form)", portal))

    api = []
    for i in range(400):
        user, item = people[i % len(people)], rng.choice(catalog)
        body = json.dumps({"item": item.code, "title": f"Bench {i}",
                           "estimated_cost": str(rng.choice([0, 900, 7000])),
                           "answers": answers_for(item)})
        api.append(_line("POST", "/api/v1/requests/", {
            "Authorization": f"Token {tokens[user.pk]}", "Content-Type": "application/json"}, body))
    targets.append(("submit_api", "POST /api/v1/requests/ (token)", api))

    steps = approvable_steps(3000 if quick else 20000)
    heads = {s.accountable_head_id: s.accountable_head for s in steps}
    head_tokens = {pk: _token(user) for pk, user in heads.items()}
    targets.append(("approve_api", "POST /api/v1/steps/<id>/approve/ (token)", [
        _line("POST", f"/api/v1/steps/{s.pk}/approve/", {
            "Authorization": f"Token {head_tokens[s.accountable_head_id]}",
            "Content-Type": "application/json"}, "{}") for s in steps]))
    return targets


def _probe(base: str, line: str) -> int:
    method, path, headers, body = line.split("\t")
    request = urllib.request.Request(
        base + path, data=body.encode() or None, method=method,
        headers=dict(h.split(": ", 1) for h in headers.split("\x1f") if h),
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wrk(base: str, lines: list[str], seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
        path = fh.name
    try:
        done = subprocess.run(
            ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", str(LUA), base],
            env={**os.environ, "WRK_REQUESTS": path, "WRK_THREADS": str(THREADS)},
            capture_output=True, text=True, check=True,
        )
    finally:
        os.unlink(path)
    for line in done.stdout.splitlines():
        if line.startswith("WRK-JSON "):
            return json.loads(line[len("WRK-JSON "):])
    raise RuntimeError(f"wrk printed no summary: {done.stdout[-500:]} {done.stderr[-500:]}")


def run(ctx) -> list[dict]:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (make bench installs it: apt-get install wrk)")
    size = ctx.sizes[0]
    seconds = 4 if ctx.quick else 10
    connections = 2 * (2 * (os.cpu_count() or 1) + 1)
    targets = _targets(ctx.quick)
    server, base = _start_gunicorn(ctx.database_url)
    measured: dict[str, dict] = {}
    rows = []
    try:
        for name, description, lines in targets:
            if not lines:
                rows.append(_unavailable(name, description, size, "nothing to replay in this data set"))
                continue
            status = _probe(base, lines[0])
            if status == 404:
                rows.append(_unavailable(name, description, size, "not available on this build (404)"))
                continue
            if status >= 400:
                rows.append(_unavailable(name, description, size, f"probe answered {status}"))
                continue
            if name == "board":
                # The board reads stored figures that beat keeps fresh; this server has no
                # beat, so refresh them as it would (dashboards.refresh_* say what that costs).

                refresh_figures()
            if not name.startswith("approve"):
                # Every worker compiles its templates and opens its connection on first use:
                # measure the steady state, not that. (Approvals are single-use: the other
                # targets have warmed the workers up by then.)
                _wrk(base, lines, 1 if ctx.quick else 2, connections)
            # The probe used the first line; single-use requests must not replay it.
            stats = _wrk(base, lines[1:] or lines, seconds, connections)
            measured[name] = stats
            rows.append(_row(name, description, size, stats, measured["healthz"], server))
    finally:
        _stop(server)
    return rows


def _row(name: str, description: str, size: int, stats: dict, floor: dict, server) -> dict:
    rps = stats["requests"] / (stats["duration_us"] / 1e6)
    statuses = ", ".join(f"{n:,}×{status}" for status, n in sorted(stats["statuses"].items()))
    note = f"{statuses or 'no responses'}"
    if stats["errors"]:
        note += f"; {stats['errors']:,} socket errors/timeouts"
    median = stats["p50_us"] / 1000
    base = floor["p50_us"] / 1000
    return {
        "scenario": f"http.{name}", "size": size, "median_ms": round(median, 2),
        "p95_ms": round(stats["p95_us"] / 1000, 2), "p99_ms": round(stats["p99_us"] / 1000, 2),
        "rps": round(rps, 1), "peak_mb": _workers_peak_mb(server) or peak_mb(),
        "baseline": "GET /healthz", "baseline_median_ms": round(base, 2),
        "ratio": round(median / base, 2) if base else None,
        "note": f"{description}: {note}",
    }


def _unavailable(name: str, description: str, size: int, why: str) -> dict:
    return {"scenario": f"http.{name}", "size": size, "median_ms": None, "p95_ms": None,
            "peak_mb": None, "baseline": "GET /healthz", "baseline_median_ms": None,
            "ratio": None, "note": f"{description}: {why}"}
