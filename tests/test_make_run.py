"""`make run` as a person meets it, from a fresh clone, at a terminal (a pseudo-terminal):
another port with PORT=, the product's own pages with DEBUG off (its 404, static files from
whitenoise), quiet logs with the address and the demo logins last, and Ctrl-C ending every
process with one line each and exit status 0.

What is tested is the Makefile, Procfile.dev and scripts/run.py, not pip or npm: the clone
borrows this checkout's virtualenv and vendored assets (their stamps made current) and seeds
a small demo (DEMO_REQUESTS) so the test stays well under two minutes."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Migrations, a small demo and the servers' start take about 35 s of CPU; a busy CI machine
# may stretch that.
READY_TIMEOUT = 400
URL_LINE = re.compile(r"SRM is running at (http://127\.0\.0\.1:(\d+)/)")
OLD = 946684800  # 2000-01-01: sources older than the stamps borrowed with them


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / "srm"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout
    assert subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout == head
    # The virtualenv this test runs in, and the vendored front-end files, as installed.
    (clone / ".venv").symlink_to(Path(sys.prefix))
    shutil.copytree((ROOT / "static" / "vendor").resolve(), clone / "static" / "vendor")
    for source in ["requirements/base.txt", "requirements/test.txt", "package.json",
                   "package-lock.json"]:
        os.utime(clone / source, (OLD, OLD))
    (clone / "static" / "vendor" / ".installed").touch()
    (clone / "var").mkdir()
    (clone / "var" / "venv-ready").touch()  # BASE_STAMP: the borrowed virtualenv is complete
    return clone


class Terminal:
    """``make run`` on a pseudo-terminal, as in a person's shell."""

    def __init__(self, cwd: Path, env: dict[str, str], args: list[str]):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a new session with the terminal as its own
            try:
                os.chdir(cwd)
                os.execvpe(args[0], args, env)
            finally:
                os._exit(127)
        self.output = ""

    def read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False once the terminal has closed."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := pattern.search(self.output):
                return match
            if not self.read(0.5):
                break
        raise AssertionError(f"no {pattern.pattern!r} in:\n{self.output}")

    def settle(self, seconds: float) -> str:
        """What arrives within ``seconds``."""
        before, deadline = len(self.output), time.monotonic() + seconds
        while time.monotonic() < deadline and self.read(0.2):
            pass
        return self.output[before:]

    def ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")  # the terminal turns it into SIGINT for its foreground

    def finish(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.read(0.5):
            pass
        for _ in range(int(timeout * 10)):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.1)
        self.kill()
        raise AssertionError(f"make run did not end:\n{self.output}")

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_make_run_serves_on_the_port_asked_for_quietly_and_stops_cleanly(tmp_path):
    clone = _clone(tmp_path)
    port = _free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "SRM_VAR_DIR", "DEBUG",
                          "DJANGO_SETTINGS_MODULE", "CACHE_URL", "MAKEFLAGS", "MAKELEVEL"}}
    env.update(PORT=str(port), DEMO_REQUESTS="40", TERM="dumb")
    started = time.monotonic()
    terminal = Terminal(clone, env, ["make", "run", f"BASE_STAMP={clone}/var/venv-ready"])
    try:
        # Given make run has started everything and said where
        match = terminal.wait_for(URL_LINE, READY_TIMEOUT)
        url = match.group(1)
        assert match.group(2) == str(port), "PORT= chooses the port"
        terminal.wait_for(re.compile(r"Ctrl-C stops it\."), 10)
        before_banner = terminal.output[:match.start()]
        banner = terminal.output[match.start():]
        # The logins come last and stay on screen: nothing follows while nobody clicks.
        assert "alice" in banner and "olivia" in banner and "admin" in banner
        assert terminal.settle(3).strip() == ""
        start_up = terminal.output
        assert before_banner.count("\n") <= 12, before_banner
        for noise in ("Traceback", "WARNING", "SecurityWarning", "superuser privileges", "%|", "req/s",
                      "beat: Starting", "Scheduler: Sending", "No hostname", "Booting worker"):
            assert noise not in start_up, (noise, start_up)

        # Then the product answers there, with DEBUG off: its own 404 page ...
        status, body = _get(f"{url}healthz/live")
        assert status == 200
        status, body = _get(f"{url}no-such-page/")
        assert status == 404
        assert "Not found" in body and "· SRM" in body, body[:500]
        assert "URLconf" not in body and "DEBUG = True" not in body
        # ... and its static files, through whitenoise, under their hashed names
        status, login = _get(f"{url}accounts/login/")
        assert status == 200
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', login)
        assert stylesheet, login[:1000]
        status, _css = _get(f"http://127.0.0.1:{port}{stylesheet.group(1)}")
        assert status == 200
        terminal.settle(1)

        # When the person presses Ctrl-C
        before_stop = len(terminal.output)
        terminal.ctrl_c()
        status = terminal.finish(30)
    finally:
        terminal.kill()

    # Then every process stops with one line each, and make ends with status 0
    stopped = terminal.output[before_stop:]
    lines = [line for line in stopped.splitlines() if line.strip() not in ("", "^C")]
    assert sorted(lines) == ["beat stopped", "web stopped", "worker stopped"], stopped
    assert status == 0, terminal.output[-2000:]
    assert "Error" not in terminal.output and "make: ***" not in terminal.output
    assert time.monotonic() - started < READY_TIMEOUT + 60
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing listens on the port any more"


@pytest.fixture(autouse=True)
def _make_is_there():
    assert shutil.which("make") and shutil.which("git"), "make run needs make and git"
