"""Reads while the broker is frozen: the web tier's read latency with Redis healthy, then with
Redis stopped by SIGSTOP (it accepts connections and never answers: the worst case), measured
in the same run, through gunicorn as production runs it (gunicorn.conf.py: gthread workers),
under the same load: reader threads on keep-alive connections (a request's API page and the
requester's list) and a writer posting a comment every 0.5 s, each of which queues notices
through the task outbox. Target: the frozen run's read p99 within 20 % of the healthy run's,
and no comment slower than 2 s.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from rest_framework.authtoken.models import Token

from bench.context import peak_mb, percentile
from bench.redis_server import RedisServer, free_port
from bench.scenarios._org import requesters
from requests_app.choices import OPEN_STATES
from requests_app.models import ServiceRequest

SIZED = False
ROOT = Path(__file__).resolve().parents[2]
READERS = 4
WRITE_EVERY = 0.5


def _start_web(database_url: str, broker_url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url,
           "DEBUG": "0", "HTTPS": "0", "DJANGO_SETTINGS_MODULE": "bench.http_settings",
           "SRM_ACCESS_LOG_LEVEL": "WARNING", "SRM_HEALTH_TIMEOUT": "2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "srm.wsgi:application", "-c", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/live", timeout=5):
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


class _Load:
    """Readers and one writer for ``seconds``; latencies in ms."""

    def __init__(self, port: int, reads: list[tuple[str, str]], writes: list[tuple[str, str]]):
        self.port, self.reads, self.writes = port, reads, writes
        self.read_ms: list[float] = []
        self.write_ms: list[float] = []
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()

    def _call(self, conn, method: str, path: str, token: str, body: dict | None = None):
        headers = {"Authorization": f"Token {token}"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        started = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return elapsed

    def _reader(self, offset: int, until: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = offset
        while time.monotonic() < until:
            path, token = self.reads[i % len(self.reads)]
            i += READERS
            elapsed = self._call(conn, "GET", path, token)
            with self.lock:
                self.read_ms.append(elapsed)
        conn.close()

    def _writer(self, until: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        i = 0
        while time.monotonic() < until:
            path, token = self.writes[i % len(self.writes)]
            i += 1
            elapsed = self._call(conn, "POST", path, token, {"body": f"Any news? ({i})"})
            with self.lock:
                self.write_ms.append(elapsed)
            time.sleep(max(0.0, WRITE_EVERY - elapsed / 1000))
        conn.close()

    def run(self, seconds: float) -> _Load:
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=self._reader, args=(n, until)) for n in range(READERS)]
        threads.append(threading.Thread(target=self._writer, args=(until,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self


def _who_and_what() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    reads, writes = [], []
    for person in requesters(8):
        token = Token.objects.get_or_create(user=person)[0].key
        mine = list(ServiceRequest.objects.filter(requester=person, state__in=OPEN_STATES)
                    .order_by("-pk").values_list("reference", flat=True)[:5])
        reads.append(("/api/v1/requests/?page_size=25", token))
        reads += [(f"/api/v1/requests/{ref}/", token) for ref in mine]
        writes += [(f"/api/v1/requests/{ref}/comments/", token) for ref in mine[:1]]
    if not writes:
        raise RuntimeError("the data set has no open requests to comment on")
    return reads, writes


def run(ctx) -> list[dict]:
    seconds = 10 if ctx.quick else 30
    reads, writes = _who_and_what()
    with RedisServer() as redis:
        server, port = _start_web(ctx.database_url, redis.url)
        try:
            _Load(port, reads, writes).run(5)  # warm every worker up: templates, connections
            # Healthy, frozen, healthy again: a drift of the machine's own load during the
            # run shows as a difference between the two healthy runs.
            before = _Load(port, reads, writes).run(seconds)
            redis.freeze()
            try:
                frozen = _Load(port, reads, writes).run(seconds)
            finally:
                redis.thaw()
            after = _Load(port, reads, writes).run(seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    healthy = _Load(port, reads, writes)
    for run_ in (before, after):
        healthy.read_ms += run_.read_ms
        healthy.write_ms += run_.write_ms
        for status, n in run_.statuses.items():
            healthy.statuses[status] = healthy.statuses.get(status, 0) + n
    return [_row("read_healthy", healthy, healthy, 2 * seconds,
                 extra=f"before {percentile(before.read_ms, 99):,.0f} ms, after "
                       f"{percentile(after.read_ms, 99):,.0f} ms"),
            _row("read_frozen", frozen, healthy, seconds),
            _writes_row(frozen, healthy)]


def _row(name: str, load: _Load, healthy: _Load, seconds: float, extra: str = "") -> dict:
    p99, base = percentile(load.read_ms, 99), percentile(healthy.read_ms, 99)
    statuses = ", ".join(f"{n:,}×{s}" for s, n in sorted(load.statuses.items()))
    return {
        "scenario": f"broker.{name}", "size": None,
        "median_ms": round(statistics.median(load.read_ms), 2),
        "p95_ms": round(percentile(load.read_ms, 95), 2), "p99_ms": round(p99, 2),
        "rps": round(len(load.read_ms) / seconds, 1), "peak_mb": round(peak_mb(), 1),
        "baseline": "read p99, broker healthy", "baseline_median_ms": round(base, 2),
        "ratio": round(p99 / base, 2) if base else None,
        "note": (f"{READERS} readers + a comment every {WRITE_EVERY} s; "
                 f"ratio = read p99 / healthy read p99 (target ≤ 1.20); {statuses}"
                 + (f"; p99 {extra}" if extra else "")),
    }


def _writes_row(frozen: _Load, healthy: _Load) -> dict:
    return {
        "scenario": "broker.comment_frozen", "size": None,
        "median_ms": round(statistics.median(frozen.write_ms), 2),
        "p95_ms": round(percentile(frozen.write_ms, 95), 2),
        "p99_ms": round(max(frozen.write_ms), 2), "rps": None,
        "peak_mb": round(peak_mb(), 1),
        "baseline": "comments, broker healthy",
        "baseline_median_ms": round(statistics.median(healthy.write_ms), 2),
        "ratio": round(statistics.median(frozen.write_ms)
                       / statistics.median(healthy.write_ms), 2),
        "note": (f"{len(frozen.write_ms)} comments while frozen, slowest "
                 f"{max(frozen.write_ms):,.0f} ms (p99 column: the slowest; target < 2,000)"),
    }
