"""``python manage.py restore DIR``: a backup made by ``manage.py backup`` into an empty
database and empty storage (anything else is refused and left as it was), then the row
counts and the audit chain's head compared with the manifest. Exit 1 when they differ."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.management.commands.backup import audit_fact
from operations.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup from DIR into an empty database and storage, and check it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options) -> None:
        try:
            result = backup_restore(source=directory, facts={"audit": audit_fact})
        except BackupError as error:
            raise CommandError(str(error)) from error
        if result.mismatches:
            raise CommandError("The restored data differs from the backup's manifest: "
                               + "; ".join(result.mismatches))
        self.stdout.write(
            f"Restored {result.tables} tables, {result.rows:,} rows and {result.files} files "
            f"from {directory}; counts and the audit head ({result.facts['audit']['head']}) "
            "match the manifest. Next: grant_runtime_role for the runtime role, then start SRM.")
