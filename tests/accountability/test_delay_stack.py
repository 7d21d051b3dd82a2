"""The real stack: a Celery worker (started here, in its own process) on the real Redis
broker against the test database. A step that became overdue is flagged by the scan task,
and each notification is e-mailed exactly once; with the broker unreachable the scan and the
approvals still succeed and the outbox is delivered once a worker and broker are back.

Needs PostgreSQL (the worker must see committed rows from another process) and Redis
(REDIS_URL, default redis://127.0.0.1:6379/0: its database, with queue names of each test's
own)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accountability.models import DelayRisk, EmailStatus, Notification
from approvals.choices import StepState
from operations.models import OutboxTask

BROKER_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(settings.BASE_DIR)


pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _delay_notices_alone(settings):
    """These tests count the delay notices; the lifecycle's (a submission tells the requester
    and the head) are tested in test_lifecycle_notices."""
    settings.SRM_LIFECYCLE_NOTICES = False


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stack(tmp_path):
    """The environment of a production process against the test database, a queue and a
    mail folder of this test's own, and a way to start a worker."""
    queue = f"srm-test-{uuid.uuid4().hex[:10]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "srm.settings",
        "DATABASE_URL": _database_url(),
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SRM_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        # Like the test process (_delay_notices_alone): the delay notices alone.
        "SRM_LIFECYCLE_NOTICES": "0",
    }
    workers: list[subprocess.Popen] = []

    def start_worker() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(workers)}.log", "wb")  # noqa: SIM115 - closed by the OS with the process
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "srm", "worker", "-Q", queue, "--pool", "solo",
             "-l", "info", "-n", f"{queue}-{len(workers)}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        workers.append(worker)
        return worker

    def send(task: str, args=None) -> str:
        """Queue ``task``; return its id (``finished`` waits for it)."""
        sender = Celery(broker=BROKER_URL)
        try:
            return sender.send_task(task, args=args or [], queue=queue).id
        finally:
            sender.close()

    def finished(*task_ids: str) -> None:
        """Wait until the workers have run these tasks (their logs say so)."""
        def done() -> bool:
            logs = b"".join(path.read_bytes() for path in tmp_path.glob("worker-*.log"))
            return all(f"[{task_id}] succeeded".encode() in logs for task_id in task_ids)

        _wait_for(done, what=f"the worker to run {', '.join(task_ids)}")

    def mails() -> list:
        # Django's file backend appends to one file per backend instance and second, ending
        # each message with a line of 79 dashes: two sends can share a file.
        separator = b"\n" + b"-" * 79 + b"\n"
        return [message_from_bytes(chunk) for path in sorted(mail_dir.iterdir())
                for chunk in path.read_bytes().split(separator) if chunk.strip()]

    yield type("Stack", (), {"env": env, "queue": queue, "start_worker": staticmethod(start_worker),
                             "send": staticmethod(send), "finished": staticmethod(finished), "mails": staticmethod(mails),
                             "logs": tmp_path})
    for worker in workers:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _wait_for(check, *, timeout: float = 150, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _all_sent() -> bool:
    return Notification.objects.exists() and not Notification.objects.filter(
        email_status=EmailStatus.PENDING).exists()


def test_the_worker_flags_an_overdue_step_and_mails_each_person_once(org, submit, stack):
    # Given a head approval that fell due a week ago (it is level 3 by now)
    request = submit(at=timezone.now() - timedelta(days=7))
    step = request.steps.get(state=StepState.ACTIVE)

    # When the beat's scan task reaches a real worker over Redis
    stack.start_worker()
    stack.send("accountability.tasks.flag_delays")
    _wait_for(_all_sent, what="the notifications to be e-mailed")

    # Then the head (and, at level 3, the head above and the ops leader) got one e-mail each
    risk = DelayRisk.objects.get(step=step)
    assert (risk.head, risk.level) == (org.hank, 3)
    notes = Notification.objects.all()
    assert sorted(n.recipient.username for n in notes) == ["hank", "olivia", "oscar"]
    assert {(n.email_status, n.attempts) for n in notes} == {(EmailStatus.SENT, 1)}

    # ...and a sweep and a second scan afterwards send nothing more.
    stack.finished(stack.send("accountability.tasks.deliver_notifications"),
                   stack.send("accountability.tasks.flag_delays"))
    mails = stack.mails()
    assert sorted(m["To"] for m in mails) == [
        "Hank Hughes <hank@example.com>", "Olivia Owens <olivia@example.com>",
        "Oscar Olsen <oscar@example.com>"]
    assert request.reference in next(m for m in mails if "hank@" in m["To"])["Subject"]
    assert Notification.objects.filter(attempts=1).count() == 3


def test_with_the_broker_down_actions_succeed_and_mail_follows_when_it_is_back(org, stack):
    # Given a broker nobody listens on
    down = {**stack.env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{_closed_port()}/0"}
    script = textwrap.dedent("""
        import django; django.setup()
        from datetime import timedelta
        from django.utils import timezone
        from approvals.services import step_approve
        from governance.models import User
        from accountability.services.risks import flag_delays
        from requests_app.models import CatalogItem
        from requests_app.services import request_submit
        alice, hank = User.objects.get(username="alice"), User.objects.get(username="hank")
        laptop = CatalogItem.objects.get(code="laptop")
        late = request_submit(actor=alice, item=laptop, estimated_cost="1200",
                              answers={"details": "x", "model": "13-inch standard"},
                              at=timezone.now() - timedelta(days=7))
        print("scan:", flag_delays())
        fresh = request_submit(actor=alice, item=laptop, estimated_cost="1200",
                               answers={"details": "y", "model": "13-inch standard"})
        step_approve(actor=hank, step=fresh.steps.get(state="active"), comment="ok")
        step_approve(actor=hank, step=late.steps.get(state="active"), comment="late, sorry")
        print("ok", late.reference, fresh.reference)
    """)

    # When people submit and approve, and the scan runs
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=down,
                          capture_output=True, text=True, timeout=120)

    # Then everything succeeded, quickly, and the e-mails wait in the outbox
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ok SR-" in done.stdout
    # (the delivery tasks wait in the task outbox for the broker)
    assert OutboxTask.objects.exists()
    assert time.monotonic() - started < 60
    risk = DelayRisk.objects.get()
    assert risk.resolved_at is not None and risk.resolution == StepState.APPROVED
    pending = Notification.objects.filter(email_status=EmailStatus.PENDING)
    assert pending.count() == 3
    assert not Notification.objects.filter(attempts__gt=0).exists()

    # When the broker and a worker are back, the beat's sweep delivers them, once
    stack.start_worker()
    stack.send("accountability.tasks.deliver_notifications")
    _wait_for(_all_sent, what="the sweep to deliver the outbox")
    stack.finished(stack.send("accountability.tasks.deliver_notifications"))
    assert len(stack.mails()) == 3
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


def test_a_scan_queued_under_its_name_before_the_move_still_runs(org, submit, stack):
    # Given an overdue step, and a scan message queued by a beat of the previous release
    # (when the task lived in governance)
    request = submit(at=timezone.now() - timedelta(days=7))
    step = request.steps.get(state=StepState.ACTIVE)
    stack.send("governance.tasks.flag_delays")

    # When a worker of this release picks it up
    stack.start_worker()
    _wait_for(_all_sent, what="the notifications of the scan sent under the old name")

    # Then it ran the scan: the risk is flagged and its people mailed
    assert DelayRisk.objects.get(step=step).level == 3
    assert len(stack.mails()) == 3
