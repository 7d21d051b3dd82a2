from django.core.management.base import BaseCommand

from kpis.services import snapshots_compute


class Command(BaseCommand):
    help = (
        "Write the weekly KPI snapshots of the last complete weeks (the daily Celery job runs "
        "the same code). Safe to rerun: existing snapshots are updated, never duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument("--backfill-weeks", type=int, default=2,
                            help="How many complete weeks back to (re)compute (default 2).")

    def handle(self, *args, backfill_weeks: int, **options):
        written = snapshots_compute(weeks_back=backfill_weeks)
        self.stdout.write(f"Wrote {written} KPI snapshots over {backfill_weeks} weeks.")
