"""Real mail servers for the tests, started on a loopback port of their own and stopped after.

``dovecot()``: Debian's dovecot-imapd (``make test`` installs it when missing, see the
Makefile's ``mailservers`` target) run with a temporary configuration: one mailbox user from
a passwd-file, maildir in a temporary folder, IMAP on 127.0.0.1 without TLS. Run by root
(CI), its processes take Debian's ``dovecot``/``dovenull`` users; run by anyone else, that
person's own.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require(path: str, what: str) -> None:
    if not Path(path).exists():
        message = f"{path} is missing: run `make mailservers` ({what})"
        if CI:
            pytest.fail(message + "; CI=true runs every test", pytrace=False)
        pytest.skip(message)


@contextlib.contextmanager
def dovecot(*, user: str = "replies", password: str = "secret"):
    _require(DOVECOT, "Debian's dovecot-imapd")
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="srm-dovecot-"))
    root.chmod(0o755)  # its mail processes run as another user and must reach the mail
    if os.getuid() == 0:
        login_user, internal_user = "dovenull", "dovecot"
        uid, gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
        uid, gid = os.getuid(), os.getgid()
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    os.chown(root / "mail", uid, gid)
    (root / "users").write_text(f"{user}:{{PLAIN}}{password}::::::\n")
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = srm-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
last_valid_uid = 0
mail_location = maildir:{root}/mail/%u
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(gid).gr_name}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"dovecot did not start on port {port}:\n{output}\n{log}")
            time.sleep(0.1)
        yield ImapServer("127.0.0.1", port, user, password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)
