"""python manage.py import_legacy FILE --item CODE [--workflow ID] [--dry-run] [--actor NAME]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accountability.choices import ImportStatus
from accountability.models import LegacyWorkflow
from accountability.services.legacy_import import import_job_create, import_job_run
from governance.errors import DomainError
from governance.models import User
from requests_app.models import CatalogItem


class Command(BaseCommand):
    help = (
        "Back-fill requests of one catalog item from a legacy tracker export (CSV or XLSX). "
        "Every row is checked first: a file with any bad row imports nothing and each bad row "
        "is reported with its line number. Rows imported before (same external_id) are "
        "skipped. See docs/change-plans.md for the columns."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file.")
        parser.add_argument("--item", required=True, help="The catalog item's code.")
        parser.add_argument("--workflow", type=int, help="The legacy workflow it replaces (id).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check every row and report; import nothing.")
        parser.add_argument("--actor", help="Username recorded in the audit trail.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file, item, workflow, dry_run, actor, no_progress, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            item_obj = CatalogItem.objects.get(code=item)
        except CatalogItem.DoesNotExist:
            raise CommandError(f"No catalog item with code “{item}”.") from None
        workflow_obj = None
        if workflow is not None:
            workflow_obj = LegacyWorkflow.objects.select_related("plan").filter(pk=workflow).first()
            if workflow_obj is None:
                raise CommandError(f"No legacy workflow with id {workflow}.")
        actor_obj = None
        if actor:
            actor_obj = User.objects.filter(username=actor).first()
            if actor_obj is None:
                raise CommandError(f"No user “{actor}”.")
        try:
            job = import_job_create(actor=actor_obj, item=item_obj, workflow=workflow_obj,
                                    original_name=path.name, dry_run=dry_run)
        except DomainError as exc:
            raise CommandError(exc.message) from None

        bars: dict[str, tqdm] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if no_progress:
                return
            bar = bars.get(phase)
            if bar is None:
                label = "Checking" if phase == "validating" else "Importing"
                bar = bars[phase] = tqdm(total=total, desc=label, unit="rows",
                                         file=self.stderr._out, leave=True)
            bar.update(done - bar.n)

        try:
            job = import_job_run(job_id=job.pk, path=path, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        for line, message in job.errors:
            self.stdout.write(f"line {line}: {message}")
        if job.error_count > len(job.errors):
            self.stdout.write(f"… and {job.error_count - len(job.errors)} more bad rows.")
        if job.status == ImportStatus.DONE:
            self.stdout.write(self.style.SUCCESS(job.message))
        else:
            raise CommandError(job.message)
