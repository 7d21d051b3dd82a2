"""``manage.py healthcheck``: what the compose health checks of web's dependencies, the worker
and beat run. Exit 0 when healthy, 1 with the failed checks named, each check bounded."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.test import override_settings

from operations import health
from tests.chaos.stack import ROOT, redis_server_fixture, stack_fixture, wait_for

redis_server = pytest.fixture(redis_server_fixture, name="redis_server")
stack = pytest.fixture(stack_fixture, name="stack")


def _check(*args) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command("healthcheck", *args, stdout=out)
        code = 0
    except CommandError as error:
        code = error.returncode
    return code, json.loads(out.getvalue())


@pytest.mark.django_db
def test_readiness_passes_when_every_dependency_answers():
    code, body = _check()
    assert code == 0 and body["status"] == "ok"
    assert set(body["checks"]) == {"broker", "cache", "database", "migrations"}


@pytest.mark.django_db
def test_readiness_names_the_dependency_that_failed(monkeypatch):
    thawed = threading.Event()

    def frozen() -> health.Check:
        thawed.wait(30)
        return health.Check(True)

    monkeypatch.setitem(health.READY_CHECKS, "broker", frozen)
    started = time.monotonic()
    try:
        with override_settings(SRM_HEALTH_TIMEOUT=0.5):
            code, body = _check()
    finally:
        thawed.set()
    assert code == 1 and body["failed"] == ["broker"]
    assert time.monotonic() - started < 3  # a hung dependency is a failed check, in time


def test_beat_is_alive_while_its_scheduler_ticks(tmp_path):
    alive = tmp_path / "beat.alive"
    with override_settings(SRM_BEAT_ALIVE_FILE=str(alive), SRM_HEALTH_BEAT_MAX_AGE=60):
        assert _check("--beat")[0] == 1  # never ticked
        alive.touch()
        code, body = _check("--beat")
        assert code == 0 and body["status"] == "ok" and body["checks"]["beat"]["age"] < 5
        os.utime(alive, (time.time() - 120, time.time() - 120))
        code, body = _check("--beat")
        assert code == 1 and "last tick 120 s ago" in body["checks"]["beat"]["detail"]


@pytest.mark.django_db
def test_jobs_fail_without_a_worker_heartbeat():
    code, body = _check("--jobs")
    assert code == 1 and "worker" in body["failed"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_worker_and_beat_of_this_host_are_checked_for_real(stack, redis_server, tmp_path):
    node = f"probe-{stack.web_port}@{socket.gethostname()}"
    alive = tmp_path / "beat.alive"
    env = {**stack.env, "SRM_BEAT_ALIVE_FILE": str(alive), "SRM_HEALTH_BEAT_MAX_AGE": "3",
           "SRM_HEALTH_TIMEOUT": "3"}

    def probe(*args) -> int:
        return subprocess.run([sys.executable, "manage.py", "healthcheck", *args], cwd=ROOT,
                              env=env, capture_output=True, timeout=60).returncode

    # No worker, no beat: both unhealthy
    assert probe("--worker", "--node", node) == 1
    assert probe("--beat") == 1

    worker = stack.start_worker("probe")
    beat = stack._spawn("beat", [sys.executable, "-m", "celery", "-A", "srm", "beat", "-l",
                                 "info", "-s", str(tmp_path / "schedule")],
                        SRM_BEAT_ALIVE_FILE=str(alive))
    wait_for(lambda: probe("--worker", "--node", node) == 0, timeout=60, what="worker pong")
    wait_for(lambda: probe("--beat") == 0, timeout=60, what="beat tick")

    # A stopped beat is noticed once its last tick is older than the limit
    beat.terminate()
    beat.wait(timeout=20)
    wait_for(lambda: probe("--beat") == 1, timeout=30, what="beat noticed gone")
    # A worker that died does not answer
    os.killpg(worker.pid, 9)
    worker.wait(timeout=20)
    assert probe("--worker", "--node", node) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_compose_health_check_of_web_passes_against_gunicorn_set_up_as_in_compose(
        stack, redis_server):
    # Given gunicorn as compose runs it: HTTPS on (redirects), behind a trusted proxy address
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    probe = compose["services"]["web"]["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    code = probe[3].replace("127.0.0.1:8000", f"127.0.0.1:{stack.web_port}")
    stack.env.update(HTTPS="1", TRUSTED_PROXIES="172.30.250.2")
    stack.start_web(workers=1, threads=2)

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=30)

    # Then the container's probe passes (the page itself still redirects a browser to HTTPS)
    assert run().returncode == 0, run().stderr[-1000:]
    page = http.client.HTTPConnection("127.0.0.1", stack.web_port, timeout=10)
    page.request("GET", "/portal/")
    assert page.getresponse().status == 301
    # ...and fails once a dependency is gone
    redis_server.stop()
    wait_for(lambda: run().returncode != 0, timeout=30, what="probe failing without the broker")
