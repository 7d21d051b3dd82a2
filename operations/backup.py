"""Backups that can be proven: the PostgreSQL database (``pg_dump``'s custom format), the
uploaded files (attachments, imports), and a manifest with every table's row count and the
facts the callers add (the audit chain's head), all from one database snapshot.

``backup_create`` holds a REPEATABLE READ transaction, exports its snapshot and runs
``pg_dump --snapshot`` inside it, so the dump, the counts and the facts describe the same
moment; the files are copied while the snapshot is held. ``backup_restore`` restores into
an empty database and empty storage only, then counts again and compares with the manifest.
docs/operations.md, "Backups", has the schedule and retention.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
FILES = "files"
# The storages whose files are part of a backup (local folders; a bucket keeps its own).
STORAGES = ("attachments", "imports")

Facts = dict[str, Callable[[], dict]]


class BackupError(Exception):
    """A backup or restore that must not go on; the message says what to do."""


@dataclass
class RestoreResult:
    tables: int = 0
    rows: int = 0
    files: int = 0
    mismatches: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


# --- PostgreSQL's own tools ------------------------------------------------------------------
def _tool(name: str) -> str:
    folder = settings.SRM_PG_BINDIR
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(f"{name} is not installed (the PostgreSQL client tools, at least the "
                          "server's major version; SRM_PG_BINDIR names their folder).")
    return path


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"], "PGHOST": db.get("HOST") or "",
           "PGPORT": str(db.get("PORT") or ""), "PGUSER": db.get("USER") or "",
           "PGCONNECT_TIMEOUT": str(db.get("OPTIONS", {}).get("connect_timeout", 10))}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return {key: value for key, value in env.items() if value != ""}


def _run(args: list[str]) -> None:
    done = subprocess.run(args, env=_pg_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise BackupError("Backups are of PostgreSQL: the embedded SQLite database is one file "
                          f"({connection.settings_dict['NAME']}), copy it while SRM is stopped.")


# --- What is counted -------------------------------------------------------------------------
def _tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                       "ORDER BY tablename")
        return [row[0] for row in cursor.fetchall()]


def _counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    return counts


def _file_roots() -> dict[str, Path | None]:
    """Each backed-up storage's folder (None: not a local folder, e.g. an S3 bucket)."""
    roots: dict[str, Path | None] = {}
    seen: set[Path] = set()
    for name in STORAGES:
        storage = storages[name]
        if not isinstance(storage, FileSystemStorage):
            roots[name] = None
            continue
        root = Path(storage.location).resolve()
        if root in seen:
            continue  # two storages in one folder: copied once
        seen.add(root)
        roots[name] = root
    return roots


def _files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _migrations() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cursor.fetchall())


# --- Backup ----------------------------------------------------------------------------------
def backup_create(*, target: Path, facts: Facts | None = None) -> dict:
    """Write a backup into ``target`` (a new or empty folder); returns its manifest."""
    _require_postgresql()
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: give each backup a folder of its own.")
    pg_dump = _tool("pg_dump")
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        return _backup_into(target, pg_dump, facts)
    except BaseException:
        # Half a backup is worse than none: it would be mistaken for one.
        if created:
            shutil.rmtree(target)
        else:
            for path in target.iterdir():
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        raise


def _backup_into(target: Path, pg_dump: str, facts: Facts | None) -> dict:
    if "django_migrations" not in _tables():
        raise BackupError(f"The database {connection.settings_dict['NAME']} has no SRM tables "
                          "(never migrated): nothing to back up.")
    manifest: dict = {"format": FORMAT, "created_at": timezone.now().isoformat(),
                      "database": {"file": DUMP, "name": connection.settings_dict["NAME"]}}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, version = cursor.fetchone()
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={target / DUMP}"])
        manifest["database"]["server_version"] = version
        manifest["tables"] = _counts()
        manifest["migrations"] = _migrations()
        manifest["facts"] = {name: fact() for name, fact in (facts or {}).items()}
        manifest["files"] = _copy_files(target / FILES)
    manifest["database"]["sha256"] = _sha256(target / DUMP)
    manifest["database"]["bytes"] = (target / DUMP).stat().st_size
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _copy_files(into: Path) -> dict:
    summary = {}
    for name, root in _file_roots().items():
        if root is None:
            summary[name] = {"copied": False,
                             "note": "not a local folder (a bucket): back it up with the "
                                     "bucket's own versioning or replication"}
            continue
        files = _files_in(root)
        for path in files:
            destination = into / name / path.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        summary[name] = {"copied": True, "files": len(files),
                         "bytes": sum(p.stat().st_size for p in files)}
    return summary


# --- Restore ---------------------------------------------------------------------------------
def read_manifest(source: Path) -> dict:
    path = Path(source) / MANIFEST
    if not path.exists():
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup made by "
                          "`manage.py backup`.")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is of format {manifest.get('format')!r}; this version "
                          f"restores format {FORMAT}.")
    return manifest


def _refuse_unless_empty() -> None:
    tables = _tables()
    if tables:
        name = connection.settings_dict["NAME"]
        raise BackupError(
            f"The database {name} is not empty ({len(tables)} tables, e.g. "
            f"{', '.join(tables[:3])}): restore only into an empty database. Create a new one "
            "(createdb) and point DATABASE_URL at it; nothing was changed.")
    for name, root in _file_roots().items():
        if root is not None and (files := _files_in(root)):
            raise BackupError(
                f"The {name} folder {root} is not empty ({len(files)} files): restore only "
                "into empty storage. Point it at a new folder (ATTACHMENTS_DIR, SRM_VAR_DIR); "
                "nothing was changed.")


def backup_restore(*, source: Path, facts: Facts | None = None) -> RestoreResult:
    """Restore the backup in ``source`` into this (empty) database and (empty) storage, then
    count again: ``mismatches`` lists what differs from the manifest."""
    _require_postgresql()
    source = Path(source)
    manifest = read_manifest(source)
    dump = source / DUMP
    if not dump.exists() or _sha256(dump) != manifest["database"]["sha256"]:
        raise BackupError(f"{dump} is missing or not the file the manifest describes "
                          "(its SHA-256 differs).")
    pg_restore = _tool("pg_restore")
    _refuse_unless_empty()
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={connection.settings_dict['NAME']}", str(dump)])
    result = RestoreResult()
    roots = _file_roots()
    for name, summary in manifest.get("files", {}).items():
        root = roots.get(name)
        if not summary.get("copied"):
            continue
        if root is None:
            result.mismatches.append(f"{name}: the backup has its files, but this storage is "
                                     "not a local folder; copy them into it yourself")
            continue
        copied = 0
        for path in _files_in(source / FILES / name):
            destination = root / path.relative_to(source / FILES / name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 1
        result.files += copied
        if copied != summary["files"]:
            result.mismatches.append(f"{name}: {summary['files']} files in the manifest, "
                                     f"{copied} restored")
    counts = _counts()
    result.tables, result.rows = len(counts), sum(counts.values())
    for table, expected in sorted(manifest["tables"].items()):
        if counts.get(table) != expected:
            result.mismatches.append(f"{table}: {expected} rows backed up, "
                                     f"{counts.get(table)} restored")
    for name, fact in (facts or {}).items():
        result.facts[name] = fact()
        if result.facts[name] != manifest.get("facts", {}).get(name):
            result.mismatches.append(f"{name}: {manifest.get('facts', {}).get(name)} backed "
                                     f"up, {result.facts[name]} restored")
    return result
