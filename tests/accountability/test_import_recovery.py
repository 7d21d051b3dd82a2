"""Every import recovers: a job whose worker died (its heartbeat stops) is taken over by the
redelivered task or re-queued by the reaper, and finishes with every row exactly once; after
``SRM_IMPORT_MAX_ATTEMPTS`` it fails with a message to the uploader; a job queued while the
broker is down waits in the task outbox; a failed job's file is kept a few days, then
deleted; a job past its time limit fails saying so."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accountability.choices import ImportStatus
from accountability.models import ImportJob
from accountability.services import legacy_import as service
from accountability.services.legacy_import import (
    RUN_TASK,
    import_files_purge,
    import_job_create,
    import_job_run,
    import_jobs_reap,
)
from governance.models import AuditEvent
from operations.models import OutboxTask
from requests_app.choices import Source
from requests_app.models import ServiceRequest

HEADER = ["requester", "title", "answer.details", "answer.model", "estimated_cost",
          "submitted_at", "status", "external_id"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(org, tmp_path, rows=25, **kwargs):
    path = tmp_path / "tracker.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(["alice", f"Laptop {n}", "New joiner", "13-inch standard", "900",
                             "2026-02-02 10:00", "open", f"T-{n}"])
    return import_job_create(actor=org.olivia, item=org.item["laptop"],
                             upload=SimpleUploadedFile("tracker.csv", path.read_bytes()),
                             **kwargs)


def _imported():
    return ServiceRequest.objects.filter(source=Source.LEGACY_IMPORT)


def _die_after_first_batch(job, monkeypatch):
    """Run the job as a worker that is killed after committing its first batch of 10 rows."""
    monkeypatch.setattr(service, "BATCH", 10)

    class Killed(BaseException):
        pass

    original = service.requests_import
    calls = {"n": 0}

    def import_then_die(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return original(**kwargs)

    monkeypatch.setattr(service, "requests_import", import_then_die)
    with pytest.raises(Killed):
        import_job_run(job_id=job.pk)
    monkeypatch.setattr(service, "requests_import", original)


def _stale(job, seconds=3600):
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def test_a_job_whose_worker_died_is_requeued_by_the_reaper_and_imports_each_row_once(
        org, tmp_path, monkeypatch):
    # Given a job whose worker died after importing 10 of 25 rows
    job = _upload(org, tmp_path)
    _die_after_first_batch(job, monkeypatch)
    job.refresh_from_db()
    assert job.status == ImportStatus.IMPORTING and _imported().count() == 10
    assert job.heartbeat_at is not None and job.attempts == 1

    # When its heartbeat is fresh the reaper leaves it alone; once stale it re-queues it
    assert import_jobs_reap() == {"requeued": 0, "failed": 0}
    _stale(job)
    OutboxTask.objects.all().delete()
    assert import_jobs_reap() == {"requeued": 1, "failed": 0}

    # Then the job is queued again, through the outbox, and the change is audited
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    assert list(OutboxTask.objects.values_list("task", "args")) == [(RUN_TASK, [job.pk])]
    event = AuditEvent.objects.get(verb="import.requeued")
    assert (event.from_state, event.to_state) == (ImportStatus.IMPORTING, ImportStatus.QUEUED)

    # And the next run finishes it with every row exactly once
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.DONE and job.attempts == 2
    assert _imported().count() == 25
    assert sorted(_imported().values_list("external_key", flat=True)) == sorted(
        f"legacy:laptop:T-{n}" for n in range(25))
    assert job.message == "Imported 15 requests; skipped 10 imported before."


def test_a_redelivered_task_takes_over_a_job_whose_heartbeat_stopped(org, tmp_path,
                                                                     monkeypatch):
    job = _upload(org, tmp_path)
    _die_after_first_batch(job, monkeypatch)

    # The broker redelivers the unacknowledged task: a live job is left alone...
    assert import_job_run(job_id=job.pk).status == ImportStatus.IMPORTING
    # ...a job whose heartbeat stopped is taken over
    _stale(job)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.DONE and _imported().count() == 25


def test_after_the_last_attempt_the_job_fails_with_a_message_to_the_uploader(
        org, tmp_path, settings, monkeypatch):
    settings.SRM_IMPORT_MAX_ATTEMPTS = 2
    job = _upload(org, tmp_path)
    for _attempt in range(2):
        _die_after_first_batch(job, monkeypatch)
        _stale(job)
        result = import_jobs_reap()
    assert result == {"requeued": 0, "failed": 1}

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.finished_at
    assert job.message == (
        "The import stopped 2 times before it could finish (its worker was restarted or ran "
        "out of memory or time), so it was not tried again. Upload the file again to import "
        "the rest: rows imported before are skipped.")
    event = AuditEvent.objects.get(verb="import.failed")
    assert event.data["attempts"] == 2
    assert job.file  # kept for the operator, SRM_IMPORT_KEEP_FAILED_DAYS


def test_a_job_queued_while_the_broker_is_down_waits_in_the_outbox(org, tmp_path, settings):
    settings.SRM_OUTBOX_PUBLISH = "beat"  # nothing reaches the broker from the request
    job = _upload(org, tmp_path, background=True)
    assert list(OutboxTask.objects.values_list("task", "args")) == [(RUN_TASK, [job.pk])]
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED


def test_a_queued_job_whose_message_was_lost_is_published_again(org, tmp_path):
    job = _upload(org, tmp_path)
    OutboxTask.objects.all().delete()
    _stale(job)
    assert import_jobs_reap() == {"requeued": 1, "failed": 0}
    assert OutboxTask.objects.filter(task=RUN_TASK, args=[job.pk]).count() == 1
    assert import_jobs_reap() == {"requeued": 0, "failed": 0}  # not again at once


def test_a_job_past_its_time_limit_fails_saying_so(org, tmp_path, settings, monkeypatch):
    settings.SRM_IMPORT_SOFT_TIME_LIMIT = 600
    job = _upload(org, tmp_path)

    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(service, "legacy_import", too_slow)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("The import took longer than 10 minutes")


def test_failed_jobs_keep_their_file_for_a_few_days_then_it_is_deleted(org, tmp_path,
                                                                       settings):
    settings.SRM_IMPORT_KEEP_FAILED_DAYS = 3
    job = _upload(org, tmp_path)
    path = job.file.path
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, finished_at=timezone.now() - timedelta(days=2))
    assert import_files_purge() == 0
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=4))
    assert import_files_purge() == 1
    job.refresh_from_db()
    assert not job.file
    import os

    assert not os.path.exists(path)
