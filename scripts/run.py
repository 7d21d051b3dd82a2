"""Run SRM's processes for a person at a terminal (``make run`` calls this once the database,
static files and demo data are ready).

Starts every process of ``Procfile.dev`` (honcho's Procfile format), each in a session of
its own, and relays their output prefixed with the process name. Once the web process
answers ``/healthz/live`` it prints the address and the demo logins, last, so they do not
scroll away. Ctrl-C (or SIGTERM, SIGHUP) stops them: each gets SIGTERM (SIGKILL after
``STOP_SECONDS``), their shutdown chatter is not relayed, one line per process says it
stopped, and the exit status is 0. If a process ends by itself, the others are stopped and
the exit status is its own.

At a terminal, Ctrl-C reaches every process of the foreground process group: ``make`` too,
which then reports the interruption and exits with status 130 whatever the recipe does.
So this script takes the terminal's foreground for its own process group while it runs
(as a shell does for a job) and hands it back before it exits: Ctrl-C reaches only this
script, and ``make run`` ends with this script's status.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from honcho.environ import parse_procfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.logins import DEMO_LOGINS, DEMO_PASSWORD  # noqa: E402 - after the path is set

STOP_SECONDS = 10
READY_SECONDS = 120


class Runner:
    def __init__(self, processes: dict[str, str], url: str):
        self.commands = processes
        self.url = url
        self.width = max(len(name) for name in processes)
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.interrupted = False
        self.ended: list[int] = []  # exit statuses of processes that ended by themselves
        self.last_output = time.monotonic()

    def say(self, text: str = "") -> None:
        with self.lock:
            print(text, flush=True)

    def start(self) -> None:
        for name, command in self.commands.items():
            # exec: the process we signal is the program itself, not a shell around it.
            process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.processes[name] = process
            threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        prefix = f"{name.ljust(self.width)} | "
        for raw in iter(process.stdout.readline, b""):
            if not self.stopping.is_set():
                self.last_output = time.monotonic()
                self.say(prefix + raw.decode("utf-8", "replace").rstrip())
        process.wait()
        if not self.stopping.is_set():
            self.ended.append(process.returncode)
            self.say(f"{name} exited with status {process.returncode}")
        self.done.set()

    def wait_until_ready(self) -> bool:
        """The web process listens and answers (one request, however long its first start
        takes: a request per poll would queue up behind it), and its output has settled."""
        deadline = time.monotonic() + READY_SECONDS
        address = ("127.0.0.1", int(self.url.rsplit(":", 1)[1].strip("/")))
        while not self.done.is_set():
            if time.monotonic() > deadline:
                return False
            try:
                socket.create_connection(address, timeout=1).close()
                break
            except OSError:
                self.done.wait(0.5)
        try:
            with urllib.request.urlopen(f"{self.url}healthz/live",
                                        timeout=max(1, deadline - time.monotonic())) as answer:
                if answer.status != 200:
                    return False
        except OSError:
            return False
        while time.monotonic() - self.last_output < 0.5 and not self.done.is_set():
            time.sleep(0.1)
        return not self.done.is_set()

    def stop(self) -> None:
        self.stopping.set()
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # Whatever it started (a worker's pool) goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            self.say(f"{name} stopped")

    def exit_status(self) -> int:
        if self.interrupted and not self.ended:
            return 0
        return next((code for code in self.ended if code), 1)


def banner(url: str) -> str:
    debug = os.environ.get("DEBUG", "0") not in ("", "0", "false", "False")
    lines = ["", f"SRM is running at {url}" + ("  (DEBUG on)" if debug else ""),
             f"Demo logins (password “{DEMO_PASSWORD}”):"]
    lines += [f"  {username:<8} {who}" for username, who in DEMO_LOGINS]
    lines += ["Ctrl-C stops it.", ""]
    return "\n".join(lines)


@contextlib.contextmanager
def own_terminal():
    """Make this process group the terminal's foreground group (when there is a terminal),
    and give the terminal back to the group that had it afterwards."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
        previous = os.tcgetpgrp(fd)
    except OSError:
        yield
        return
    if previous != os.getpgrp():  # started in the background: leave the terminal alone
        os.close(fd)
        yield
        return
    handler = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # we write to it from behind
    try:
        if os.getpgrp() != os.getpid():
            os.setpgid(0, 0)
        os.tcsetpgrp(fd, os.getpgrp())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(fd, previous)
        signal.signal(signal.SIGTTOU, handler)
        os.close(fd)


def main() -> int:
    port = os.environ.get("PORT", "8000")
    url = f"http://127.0.0.1:{port}/"
    procfile = Path(os.environ.get("PROCFILE", ROOT / "Procfile.dev"))
    runner = Runner(parse_procfile(procfile.read_text()).processes, url)

    def interrupt(signum, frame):
        runner.interrupted = True
        runner.done.set()

    with own_terminal():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, interrupt)
        runner.start()
        if runner.wait_until_ready():
            runner.say(banner(url))
        elif not runner.done.is_set():
            runner.say(f"The web process did not answer at {url} within {READY_SECONDS} s.")
            runner.done.set()
        while not runner.done.wait(0.5):
            pass
        if runner.interrupted:
            runner.say()
        runner.stop()
    return runner.exit_status()


if __name__ == "__main__":
    sys.exit(main())
