"""Apply, or preview with --dry-run, organisation changes from a CSV or JSON file: new heads,
people who move, leavers (format: governance/services/orgchanges.py, docs/identity.md).

    python manage.py org_changes --dry-run changes.csv   # what would move; nothing changes
    python manage.py org_changes --as admin changes.csv  # all of it, in one transaction
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.errors import DomainError
from governance.models import User
from governance.services.audit import audit_collect
from governance.services.orgchanges import org_changes_apply, org_changes_read
from governance.services.preview import change_line, change_rows, org_preview


class Command(BaseCommand):
    help = "Apply (or with --dry-run, preview) organisation changes from a CSV or JSON FILE."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true",
                            help="List what would change, which steps would move to whom, "
                                 "and change nothing.")
        parser.add_argument("--as", dest="actor", default=None,
                            help="The user name the audit trail names as making the changes.")

    def handle(self, *args, file: Path, dry_run: bool, actor: str | None, **options):
        if not file.is_file():
            raise CommandError(f"No file {file}.")
        who = None
        if actor:
            who = User.objects.filter(username=actor).first()
            if who is None:
                raise CommandError(f"No user called “{actor}”.")
        try:
            changes = org_changes_read(file)
            if dry_run:
                with org_preview() as events:
                    org_changes_apply(actor=who, changes=changes)
            else:
                with audit_collect() as events:
                    org_changes_apply(actor=who, changes=changes)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        rows = change_rows(events)
        for row in rows:
            self.stdout.write(("would: " if dry_run else "") + change_line(row))
        moved = sum(1 for row in rows if row["verb"] in {"step.reassigned", "step.released"})
        summary = f"{len(changes)} change(s), {moved} step(s) moved"
        self.stderr.write(f"{summary}. Nothing was changed (dry run)." if dry_run
                          else f"{summary}, in one transaction.")
