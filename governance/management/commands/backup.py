"""``python manage.py backup DIR``: the database (pg_dump, custom format), the uploaded files
and ``manifest.json`` (row counts, the audit chain's head), from one snapshot, into DIR (a new
or empty folder). docs/operations.md, "Backups"."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.services.audit import audit_chain_verify
from operations.backup import BackupError, backup_create


def audit_fact() -> dict:
    """What the audit trail looks like: its events, chains and their head (one hash)."""
    check = audit_chain_verify(limit_broken=1)
    return {"events": check.events, "chains": check.chains, "head": check.head,
            "verified": check.ok}


class Command(BaseCommand):
    help = "Back up the database, the uploaded files and a manifest into DIR (new or empty)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options) -> None:
        try:
            manifest = backup_create(target=directory, facts={"audit": audit_fact})
        except BackupError as error:
            raise CommandError(str(error)) from error
        audit = manifest["facts"]["audit"]
        files = sum(f.get("files", 0) for f in manifest["files"].values())
        self.stdout.write(
            f"Backed up {len(manifest['tables'])} tables, {sum(manifest['tables'].values()):,} "
            f"rows, {files} files into {directory}. Audit: {audit['events']} events, head "
            f"{audit['head']}" + ("" if audit["verified"] else
                                  " (the chain does NOT verify: run verify_audit)"))
