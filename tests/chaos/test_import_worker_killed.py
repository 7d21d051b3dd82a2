"""A worker killed (SIGKILL) in the middle of a legacy import: once a worker is back, the
beat's reaper sees the job's heartbeat stop, queues it again through the outbox, and the next
run finishes it with every row imported exactly once."""

from __future__ import annotations

import csv
import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accountability.choices import ImportStatus
from accountability.models import ImportJob
from accountability.services.legacy_import import RUN_TASK, import_job_create
from operations import outbox
from requests_app.choices import Source
from requests_app.models import ServiceRequest
from tests.chaos.stack import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 2_500
DISPATCH = "from operations.outbox import outbox_dispatch\nprint(outbox_dispatch())"
REAP = ("from accountability.services.legacy_import import import_jobs_reap\n"
        "print(import_jobs_reap())")


def _tracker(path) -> bytes:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["requester", "title", "answer.details", "answer.model",
                         "estimated_cost", "submitted_at", "status", "external_id"])
        for n in range(ROWS):
            writer.writerow(["alice", f"Laptop {n}", "Joiner", "13-inch standard", "900",
                             "2026-02-02 10:00", "fulfilled" if n % 2 else "open", f"T-{n}"])
    return path.read_bytes()


def _job() -> ImportJob:
    return ImportJob.objects.get()


def test_a_worker_killed_mid_import_finishes_after_restart_with_each_row_once(
        org, stack, settings, tmp_path):
    # Given the worker's media folder, and an import queued (the beat publishes it)
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.SRM_OUTBOX_PUBLISH = "beat"
    stack.env["SRM_IMPORT_STALE_SECONDS"] = "3"
    job = import_job_create(actor=org.olivia, item=org.item["laptop"],
                            upload=SimpleUploadedFile("tracker.csv",
                                                      _tracker(tmp_path / "t.csv")))
    outbox.enqueue(RUN_TASK, args=[job.pk])
    worker = stack.start_worker()
    assert stack.run(DISPATCH).returncode == 0

    # When the worker is killed after its first batch of rows was committed
    wait_for(lambda: _job().status == ImportStatus.IMPORTING and _job().done >= 1000,
             timeout=240, what="the import's first batch")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    partial = ServiceRequest.objects.filter(source=Source.LEGACY_IMPORT).count()
    assert 0 < partial < ROWS
    assert _job().status == ImportStatus.IMPORTING  # stuck, as before the fix

    # And a worker comes back while the beat runs the reaper and the dispatcher
    stack.start_worker("worker2")

    def reaped() -> bool:
        out = stack.run(REAP)
        assert out.returncode == 0, out.stderr[-3000:]
        return "'requeued': 1" in out.stdout

    wait_for(reaped, timeout=30, what="the reaper to re-queue the job")
    assert stack.run(DISPATCH).returncode == 0

    # Then the job finishes, with every row exactly once
    wait_for(lambda: _job().status in (ImportStatus.DONE, ImportStatus.FAILED), timeout=300,
             what="the import to finish")
    job = _job()
    assert job.status == ImportStatus.DONE, job.message
    assert job.attempts == 2
    imported = ServiceRequest.objects.filter(source=Source.LEGACY_IMPORT)
    assert imported.count() == ROWS
    assert imported.values("external_key").distinct().count() == ROWS
    assert job.message == (f"Imported {ROWS - partial} requests; skipped {partial} imported "
                           "before.")
    assert not job.file  # deleted once done
