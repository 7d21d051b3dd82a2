"""Fault injection against the real stack: a Redis and SRM's processes (gunicorn, a Celery
worker) that each test starts itself, on loopback ports of its own, against the test's
PostgreSQL database. ``Redis.freeze()`` stops the server with SIGSTOP: it still accepts TCP
connections (the kernel does) but never answers, the worst case for a client."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from email import message_from_bytes
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, *, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("redis-server is missing (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout=20, what="redis-server")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as s:
                s.settimeout(1)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)


def _postgres_bindir() -> Path:
    """The newest installed PostgreSQL's programs (initdb, pg_ctl are not on PATH on Debian)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail("PostgreSQL's server programs are missing (apt-get install postgresql)")
    return Path(initdb).resolve().parent


class Postgres:
    """A PostgreSQL cluster of the test's own, on a port of its own, that the test may stop,
    restart or crash. Runs as the ``postgres`` system user when the tests run as root
    (initdb refuses root). ``copy_from_test_database`` gives it the test database's rows."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bindir = _postgres_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="srm-chaos-pg-"))
        self.data = self.dir / "data"
        self.name = "srm_chaos"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.dir)
        if done.returncode != 0:
            raise AssertionError(f"{program} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--no-sync", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(self.data), *self._server_options(), "start")

    def _server_options(self) -> list[str]:
        return ["-w", "-l", str(self.dir / "server.log"), "-o",
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"]

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", *self._server_options(),
                  "restart")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1):
                return True
        except OSError:
            return False

    def copy_from_test_database(self) -> None:
        """The test database (schema and committed rows) into this cluster's ``srm_chaos``."""
        env = {**os.environ}
        subprocess.run([str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", self.name], check=True, env=env, timeout=60)
        dump = subprocess.run([str(self.bindir / "pg_dump"), "--format=custom", "--no-owner",
                               "--no-privileges", database_url()], check=True,
                              capture_output=True, timeout=300)
        subprocess.run([str(self.bindir / "pg_restore"), "--no-owner", "--no-privileges",
                        "--exit-on-error", "-d", self.url], input=dump.stdout, check=True,
                       capture_output=True, timeout=300)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Stack:
    """SRM's production processes on the test database and this test's own Redis."""

    def __init__(self, tmp: Path, redis: Redis) -> None:
        self.tmp = tmp
        self.redis = redis
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "srm.settings",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": redis.url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "SRM_VAR_DIR": str(tmp / "var"),
            "DEBUG": "0",
            "HTTPS": "0",
            # The tests' own key: API tokens made in the test process (a keyed hash of the
            # secret) are then recognised by the servers.
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SRM_BROKER_TIMEOUT": "1",
            "SRM_HEALTH_TIMEOUT": "1.5",
            "PYTHONUNBUFFERED": "1",
        }

    def _spawn(self, name: str, args: list[str], **env) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(args, cwd=ROOT, env={**self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def start_web(self, *, workers: int = 2, threads: int = 4) -> subprocess.Popen:
        web = self._spawn("web", [
            sys.executable, "-m", "gunicorn", "srm.wsgi:application", "-c", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(workers),
            "--threads", str(threads)])
        wait_for(lambda: self.get("/healthz/live")[0] == 200, timeout=60, what="gunicorn")
        return web

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        return self._spawn(name, [
            sys.executable, "-m", "celery", "-A", "srm", "worker", "--pool", "prefork",
            "--concurrency", "1", "-l", "info", "-n", f"{name}-{self.web_port}@%h",
            "--without-gossip", "--without-mingle"])

    def run(self, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Python in a production process (django set up), e.g. the beat's dispatcher."""
        return subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def request(self, method: str, path: str, *, token: str = "", body: dict | None = None,
                timeout: float = 30) -> tuple[int, dict | str, float]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            req.add_header("Authorization", f"Token {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        elapsed = time.monotonic() - started
        try:
            return status, json.loads(raw), elapsed
        except ValueError:
            return status, raw.decode(errors="replace"), elapsed

    def get(self, path: str, **kwargs):
        try:
            status, body, _ = self.request("GET", path, **kwargs)
        except OSError:
            return 0, ""
        return status, body

    def mails(self) -> list:
        separator = b"\n" + b"-" * 79 + b"\n"
        return [message_from_bytes(chunk) for path in sorted(self.mail_dir.iterdir())
                for chunk in path.read_bytes().split(separator) if chunk.strip()]

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def redis_server_fixture(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def postgres_server_fixture():
    server = Postgres()
    server.start()
    yield server
    server.destroy()


def stack_fixture(tmp_path, redis_server):
    running = Stack(tmp_path, redis_server)
    yield running
    running.stop()
