import time

from django.core.management.base import BaseCommand

from accountability.figures import refresh_figures


class Command(BaseCommand):
    help = (
        "Recompute the stored figures behind the board, department pages, handoff view and "
        "quarterly report (the job Celery beat runs every SRM_FIGURES_REFRESH_SECONDS). "
        "--all also rebuilds every past quarter, e.g. after correcting past data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="everything",
                            help="Rebuild every quarter with data, settled ones included.")

    def handle(self, *args, everything: bool, **options):
        started = time.monotonic()
        counts = refresh_figures(everything=everything)
        rows = ", ".join(f"{n:,} {family}" for family, n in counts.items())
        self.stdout.write(f"Stored figures: {rows} rows, in {time.monotonic() - started:.1f} s.")
