"""Legacy tracker import: back-fill requests from a CSV or XLSX export of a shadow process.

The file is read twice, streaming, never held in memory: first every row is checked (a file
with any bad row imports nothing and the report lists each bad row with its line number),
then the rows are imported in batches of ``BATCH`` per transaction, skipping external keys
imported before (so importing the same file again creates nothing). ``ImportJob`` counts
progress for the page's progress bar; the command line passes a ``progress`` callback.

Columns (header names, case-insensitive; order free) — see docs/change-plans.md:
``requester`` (username or email), ``title``, ``answers`` (a JSON object) and/or
``answer.<field>`` columns, ``estimated_cost``, ``submitted_at``, ``status``, ``external_id``,
``closed_at`` (optional).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.choices import IMPORT_FINISHED_STATES, IMPORT_MACHINE, ImportStatus
from accountability.models import ImportJob, LegacyWorkflow
from accountability.selectors_plans import plan_correlation
from accountability.services.import_files import (
    FORMATS,
    count_rows,
    inspect_file,
    overlong_column,
    read_rows,
    size_refusal,
)
from governance.choices import AuditVerb
from governance.errors import DomainError, NotAllowed, ValidationFailed
from governance.models import User
from governance.services.audit import audit_record
from governance.states import assert_transition
from kit.i18n import in_language_of
from operations import outbox
from requests_app.models import CatalogItem, ServiceRequest
from requests_app.services import ImportedRequest, import_clean, requests_import

logger = logging.getLogger(__name__)

# The Celery task that runs a job (accountability.tasks; by name: tasks sit above services).
RUN_TASK = "accountability.tasks.run_legacy_import"
BATCH = 1000
MAX_MESSAGE = 300  # characters of one row's error message (it may quote a cell)
RUNNING = (ImportStatus.VALIDATING, ImportStatus.IMPORTING)

Progress = Callable[[str, int, int], None]  # phase, done, total


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    """What an import found and did; keeps the first ``SRM_IMPORT_MAX_ERRORS`` bad rows and
    counts them all."""

    total: int = 0
    valid: int = 0
    imported: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.error_count

    def add_errors(self, errors: list[RowError]) -> None:
        self.error_count += len(errors)
        room = max(settings.SRM_IMPORT_MAX_ERRORS - len(self.errors), 0)
        self.errors.extend(errors[:room])


# --- Reading (accountability.services.import_files) ------------------------------------------
def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- Checking one row ------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _when(value: Any, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A date or datetime cell: ISO text (2026-03-31, 2026-03-31 14:30, with or without an
    offset) or a spreadsheet date. Naive times are in the organisation's timezone; a bare
    date means the start (09:00) or, for a closing date, the end (17:00) of that day."""
    if value is None or _text(value) == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(17 if end_of_day else 9))
    else:
        text = _text(value)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name} “{text}” is not a date (use 2026-03-31 or "
                             "2026-03-31 14:30)") from None
        if len(text) == 10:
            parsed = datetime.combine(parsed.date(), time(17 if end_of_day else 9))
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=_tz())
    return parsed


def _answers(raw: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    text = _text(raw.get("answers"))
    if text:
        try:
            answers = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"answers is not valid JSON ({exc.msg})") from None
        if not isinstance(answers, dict):
            raise ValueError("answers must be a JSON object keyed by field name")
    for column, value in raw.items():
        if column.startswith("answer.") and _text(value) != "":
            if isinstance(value, datetime):
                value = value.date().isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            answers[column.removeprefix("answer.")] = value
    return answers


def _describe(exc: DomainError) -> str:
    if exc.field_errors:
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.field_errors.items()
        )
    return exc.message


class RowChecker:
    """Checks rows a batch at a time: one query for the batch's requesters."""

    def __init__(self, *, item: CatalogItem, workflow: LegacyWorkflow | None,
                 now: datetime | None = None):
        self.item = item
        self.prefix = f"legacy:{f'workflow-{workflow.pk}' if workflow else item.code}:"
        self.now = now or timezone.now()
        self.first_line: dict[str, int] = {}  # external key → line, to catch duplicates

    def external_key(self, raw: dict[str, Any]) -> str:
        external_id = _text(raw.get("external_id"))
        return self.prefix + external_id if external_id else ""

    def _requesters(self, batch) -> dict[str, User | None]:
        names = {_text(raw.get("requester")) for _line, raw in batch} - {""}
        lowered = {n.lower() for n in names}
        found: dict[str, User | None] = {}
        users = (User.objects.annotate(email_lower=Lower("email"))
                 .filter(Q(username__in=names) | Q(email_lower__in=lowered)))
        for user in users:
            found[user.username] = user
            key = user.email.lower()
            if key:
                # Two accounts with one email cannot be told apart: refuse rather than guess.
                found[key] = None if key in found and found[key] != user else user
        return found

    def check(self, batch: list[tuple[int, dict]], *, duplicates: bool
              ) -> tuple[list[tuple[int, ImportedRequest]], list[RowError]]:
        requesters = self._requesters(batch)
        good, bad = [], []
        for line, raw in batch:
            try:
                good.append((line, self._row(line, raw, requesters, duplicates)))
            except (ValueError, DomainError) as exc:
                message = _describe(exc) if isinstance(exc, DomainError) else str(exc)
                if len(message) > MAX_MESSAGE:
                    message = message[:MAX_MESSAGE - 1] + "…"
                bad.append(RowError(line, message))
        return good, bad

    def _row(self, line: int, raw: dict, requesters: dict, duplicates: bool) -> ImportedRequest:
        if column := overlong_column(raw):
            raise ValueError(f"{column[:100]} is longer than "
                             f"{settings.SRM_IMPORT_MAX_CELL_CHARS:,} characters")
        name = _text(raw.get("requester"))
        if not name:
            raise ValueError("requester is empty")
        requester = requesters.get(name) or requesters.get(name.lower())
        if requester is None:
            if name.lower() in requesters:
                raise ValueError(f"requester “{name}”: several accounts use this email; use "
                                 "the username")
            raise ValueError(f"requester “{name}”: no account with this username or email")
        key = self.external_key(raw)
        if duplicates and key:
            first = self.first_line.setdefault(key, line)
            if first != line:
                raise ValueError(f"external_id “{_text(raw.get('external_id'))}” is also on "
                                 f"line {first}")
        submitted = _when(raw.get("submitted_at"), "submitted_at")
        if submitted is None:
            raise ValueError("submitted_at is empty")
        return import_clean(
            item=self.item, requester=requester, answers=_answers(raw),
            estimated_cost=raw.get("estimated_cost"), title=_text(raw.get("title")),
            external_key=key, submitted_at=submitted,
            status=_text(raw.get("status")).lower(),
            closed_at=_when(raw.get("closed_at"), "closed_at", end_of_day=True), now=self.now,
        )


# --- The whole file ----------------------------------------------------------------------------
def legacy_import(*, path: str | os.PathLike, item: CatalogItem,
                  workflow: LegacyWorkflow | None = None, actor: User | None = None,
                  dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Check every row of the file; when all are good (and it is not a dry run) import them
    in batches. Returns the report; never imports anything from a file with a bad row. A file
    over the limits (``inspect_file``) raises ``ValidationFailed`` before it is parsed."""
    inspect_file(path)
    report = ImportReport(total=count_rows(path))
    checker = RowChecker(item=item, workflow=workflow)
    tell = progress or (lambda phase, done, total: None)

    done = 0
    tell("validating", 0, report.total)
    for batch in _batches(read_rows(path), BATCH):
        good, bad = checker.check(batch, duplicates=True)
        report.valid += len(good)
        report.add_errors(bad)
        done += len(batch)
        tell("validating", done, report.total)
    if not report.ok:
        return report
    report.skipped = _already_imported(checker, path)
    if dry_run:
        return report

    done = 0
    tell("importing", 0, report.total)
    audit_data = {"workflow": workflow.pk} if workflow else {}
    for batch in _batches(read_rows(path), BATCH):
        good, bad = checker.check(batch, duplicates=False)
        if bad:  # the data changed since the check (an account lost its department…)
            report.add_errors(bad)
            return report
        with transaction.atomic():
            keys = [row.external_key for _line, row in good]
            existing = set(ServiceRequest.objects.filter(external_key__in=keys)
                           .values_list("external_key", flat=True))
            fresh = [row for _line, row in good if row.external_key not in existing]
            requests_import(actor=actor, item=item, rows=fresh, audit_data=audit_data)
        report.imported += len(fresh)
        done += len(batch)
        tell("importing", done, report.total)
    return report


def _already_imported(checker: RowChecker, path) -> int:
    count = 0
    for batch in _batches(read_rows(path), BATCH):
        keys = [checker.external_key(raw) for _line, raw in batch]
        count += ServiceRequest.objects.filter(external_key__in=keys).count()
    return count


# --- Jobs: the upload page and the Celery task -------------------------------------------------
def _may_import(actor: User | None) -> bool:
    return actor is None or actor.is_ops_leader or actor.is_superuser


@transaction.atomic
def import_job_create(*, actor: User | None, item: CatalogItem, upload: UploadedFile | None = None,
                      original_name: str = "", workflow: LegacyWorkflow | None = None,
                      dry_run: bool = False, background: bool = False) -> ImportJob:
    """Record an import to run (the upload is stored, readable by the service only, under
    MEDIA_ROOT/imports/). ``actor=None`` is the command line. ``background``: a worker runs
    it, queued through the task outbox in this transaction (the upload never waits on the
    broker; a job queued while the broker is down is published when it returns)."""
    if not _may_import(actor):
        raise NotAllowed(_("Only ops leaders import legacy trackers."), code="not_ops_leader")
    name = upload.name if upload is not None else original_name
    if Path(name).suffix.lower() not in FORMATS:
        raise ValidationFailed(_("Upload a .csv or .xlsx file."), code="unknown_format",
                               field_errors={"file": [_("Upload a .csv or .xlsx file.")]})
    if upload is not None and (refusal := size_refusal(upload.size or 0)):
        raise ValidationFailed(refusal, code="import_too_large", field_errors={"file": [refusal]})
    if workflow is not None and not workflow.plan.items.filter(pk=item.pk).exists():
        raise ValidationFailed(_("“%(item)s” is not in the scope of “%(plan)s”.") % {
            "item": item, "plan": workflow.plan},
                               code="item_not_in_plan")
    job = ImportJob(item=item, workflow=workflow, created_by=actor, dry_run=dry_run,
                    original_name=Path(name).name[:255], heartbeat_at=timezone.now())
    if upload is not None:
        job.file.save(Path(name).name[-100:], upload, save=False)
    job.save()
    audit_record(actor=actor, verb=AuditVerb.IMPORT_QUEUED, target=job, to_state=ImportStatus.QUEUED,
                 correlation=_job_correlation(job),
                 data={"item": item.code, "file": job.original_name, "dry_run": dry_run})
    if background:
        outbox.enqueue(RUN_TASK, args=[job.pk])
    return job


def _job_correlation(job: ImportJob) -> str:
    return plan_correlation(job.workflow.plan) if job.workflow_id else f"import:{job.pk}"


class Superseded(Exception):
    """This run's job was taken over by another run (its heartbeat had gone stale)."""


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.SRM_IMPORT_STALE_SECONDS)


def import_job_run(*, job_id: int, path: str | os.PathLike | None = None,
                   progress: Progress | None = None) -> ImportJob:
    """Run a queued import. Safe to call twice: a job another run is working on (its
    heartbeat is fresh) is left alone; a job whose run died (the broker redelivers its task)
    is taken over and checked again from the start, rows imported before being skipped."""
    now = timezone.now()
    claimable = Q(status=ImportStatus.QUEUED) | Q(
        status__in=RUNNING, heartbeat_at__lt=_stale_before(now),
        attempts__lt=settings.SRM_IMPORT_MAX_ATTEMPTS)
    before = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    started = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=ImportStatus.VALIDATING, attempts=F("attempts") + 1, heartbeat_at=now, done=0)
    job = ImportJob.objects.select_related("item", "workflow__plan", "created_by").get(pk=job_id)
    if not started:
        return job
    if before in RUNNING:  # taken over from a run that died: the move is on the record
        audit_record(actor=None, verb=AuditVerb.IMPORT_REQUEUED, target=job, from_state=before,
                     to_state=ImportStatus.VALIDATING, correlation=_job_correlation(job),
                     data={"attempt": job.attempts, "by": "redelivered task"})
    if path is not None:
        return _job_execute(job, path, progress)
    try:
        local = job.file.path
    except NotImplementedError:  # an object store has no path: work on a temporary copy
        with tempfile.NamedTemporaryFile(suffix=Path(job.file.name).suffix) as copy, \
                job.file.open("rb") as source:
            shutil.copyfileobj(source, copy)
            copy.flush()
            return _job_execute(job, copy.name, progress)
    return _job_execute(job, local, progress)


def _job_execute(job: ImportJob, path, progress: Progress | None) -> ImportJob:
    job_id, attempt = job.pk, job.attempts

    def tell(phase: str, done: int, total: int) -> None:
        """Progress and the heartbeat, for this run only: a run whose job was taken over
        stops here."""
        status = ImportStatus.VALIDATING if phase == "validating" else ImportStatus.IMPORTING
        updated = ImportJob.objects.filter(
            pk=job_id, attempts=attempt, status__in=IMPORT_MACHINE.sources(status)
        ).update(status=status, done=done, total=total, heartbeat_at=timezone.now())
        if not updated:
            raise Superseded
        if progress:
            progress(phase, done, total)

    try:
        report = legacy_import(path=path, item=job.item, workflow=job.workflow,
                               actor=job.created_by, dry_run=job.dry_run, progress=tell)
    except Superseded:
        logger.warning("Import %s: another run took the job over; this one stops.", job_id)
        job.refresh_from_db()
        return job
    except DomainError as exc:
        return _job_end(job, ImportStatus.REJECTED, ImportReport(), message=exc.message)
    except SoftTimeLimitExceeded:
        minutes = settings.SRM_IMPORT_SOFT_TIME_LIMIT / 60
        return _job_end(job, ImportStatus.FAILED, ImportReport(), message=(
            f"The import took longer than {minutes:,.0f} minutes and was stopped; rows imported "
            "so far stay. Split the file and upload the parts (rows imported before are "
            "skipped)."))
    except Exception as exc:
        _job_end(job, ImportStatus.FAILED, ImportReport(),
                 message=f"Failed on our side: {type(exc).__name__}: {str(exc)[:200]}")
        raise
    # Kept on the job and read later by whoever started it: written in their language.
    with in_language_of(job.created_by):
        if not report.ok:
            message = _("%(errors)s of %(total)s rows have errors; nothing was imported. Fix "
                        "them and upload the file again.") % {"errors": report.error_count,
                                                              "total": report.total}
            return _job_end(job, ImportStatus.REJECTED, report, message=message)
        if job.dry_run:
            message = _("Dry run: all %(total)s rows are valid; %(new)s would be imported, "
                        "%(skipped)s were imported before.") % {
                "total": report.total, "new": report.total - report.skipped,
                "skipped": report.skipped}
        else:
            message = _("Imported %(imported)s requests; skipped %(skipped)s imported before.") % {
                "imported": report.imported, "skipped": report.total - report.imported}
            report.skipped = report.total - report.imported
    return _job_end(job, ImportStatus.DONE, report, message=message)


def _job_end(job: ImportJob, status: str, report: ImportReport, *, message: str) -> ImportJob:
    job = _job_finish(job, status, report, message=message)
    if status != ImportStatus.FAILED:
        _file_delete(job)  # after the commit: a rolled-back finish keeps its file
    return job


@transaction.atomic
def _job_finish(job: ImportJob, status: str, report: ImportReport, *, message: str,
                data: dict | None = None) -> ImportJob:
    job = ImportJob.objects.select_for_update(of=("self",)).select_related(
        "item", "workflow__plan", "created_by").get(pk=job.pk)
    old = job.status
    assert_transition(job, status)
    job.status = status
    job.total = report.total or job.total
    job.done = job.total if status == ImportStatus.DONE else job.done
    job.imported, job.skipped = report.imported, report.skipped
    job.error_count = report.error_count
    job.errors = [[e.line, e.message] for e in report.errors[:settings.SRM_IMPORT_MAX_ERRORS]]
    job.message = message[:2000]
    job.finished_at = timezone.now()
    job.save()
    audit_record(actor=job.created_by, verb=AuditVerb.of("import", status), target=job, from_state=old,
                 to_state=status, correlation=_job_correlation(job),
                 data={"item": job.item.code, "file": job.original_name, "total": job.total,
                       "imported": job.imported, "skipped": job.skipped,
                       "errors": job.error_count, "dry_run": job.dry_run, **(data or {})})
    return job


def _file_delete(job: ImportJob) -> None:
    if not job.file:
        return
    name = job.file.name
    try:
        job.file.storage.delete(name)
    except OSError:
        logger.warning("Import %s: could not delete its file %s", job.pk, name, exc_info=True)
        return
    ImportJob.objects.filter(pk=job.pk).update(file="")
    job.file.name = ""


# --- Recovery: the beat's reaper and the file cleanup -----------------------------------------
def import_jobs_reap(*, now: datetime | None = None) -> dict[str, int]:
    """Jobs whose heartbeat is older than ``SRM_IMPORT_STALE_SECONDS``: a running one (its
    worker died) is queued again through the outbox, or failed with a message to the uploader
    after ``SRM_IMPORT_MAX_ATTEMPTS`` runs; a queued one (its message was lost) is published
    again. Runs are idempotent, so publishing twice is harmless."""
    now = now or timezone.now()
    stale = ImportJob.objects.filter(heartbeat_at__lt=_stale_before(now))
    result = {"requeued": 0, "failed": 0}
    for job_id in stale.filter(status__in=(ImportStatus.QUEUED, *RUNNING)).values_list(
            "pk", flat=True).order_by("pk")[:500]:
        outcome = _job_reap(job_id, now=now)
        if outcome:
            result[outcome] += 1
    return result


@transaction.atomic
def _job_reap(job_id: int, *, now: datetime) -> str | None:
    job = (ImportJob.objects.select_for_update(of=("self",), skip_locked=True)
           .select_related("item", "workflow__plan", "created_by")
           .filter(pk=job_id, heartbeat_at__lt=_stale_before(now),
                   status__in=(ImportStatus.QUEUED, *RUNNING)).first())
    if job is None:
        return None
    if not job.file:  # the command line's job: its process is gone, nothing can rerun it
        _job_finish(job, ImportStatus.FAILED, ImportReport(), data={"attempts": job.attempts},
                    message="The import's process stopped before it finished; run the command "
                            "again (rows imported before are skipped).")
        return "failed"
    if job.status == ImportStatus.QUEUED:
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=now)
        outbox.enqueue(RUN_TASK, args=[job.pk])
        return "requeued"
    if job.attempts >= settings.SRM_IMPORT_MAX_ATTEMPTS:
        _job_finish(job, ImportStatus.FAILED, ImportReport(), data={"attempts": job.attempts},
                    message=(
                        f"The import stopped {job.attempts} times before it could finish (its "
                        "worker was restarted or ran out of memory or time), so it was not "
                        "tried again. Upload the file again to import the rest: rows imported "
                        "before are skipped."))
        return "failed"
    old = job.status
    assert_transition(job, ImportStatus.QUEUED)
    job.status = ImportStatus.QUEUED
    job.heartbeat_at = now
    job.save(update_fields=["status", "heartbeat_at"])
    audit_record(actor=None, verb=AuditVerb.IMPORT_REQUEUED, target=job, from_state=old,
                 to_state=ImportStatus.QUEUED, correlation=_job_correlation(job),
                 data={"attempts": job.attempts, "done": job.done, "total": job.total})
    outbox.enqueue(RUN_TASK, args=[job.pk])
    return "requeued"


def import_files_purge(*, now: datetime | None = None) -> int:
    """Delete the files of jobs that ended: a failed job's after
    ``SRM_IMPORT_KEEP_FAILED_DAYS``, any other's at once (normally deleted as it ends)."""
    now = now or timezone.now()
    kept_until = now - timedelta(days=settings.SRM_IMPORT_KEEP_FAILED_DAYS)
    ended = (ImportJob.objects.exclude(file="").filter(status__in=IMPORT_FINISHED_STATES)
             .filter(~Q(status=ImportStatus.FAILED) | Q(finished_at__lt=kept_until)))
    deleted = 0
    for job in ended.only("pk", "file").iterator():
        _file_delete(job)
        deleted += 0 if job.file else 1
    return deleted
