from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from accountability.services.risks import flag_delays
from demo.organisation import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_SPAN,
    quarter_ends,
    seed_change_plan,
    seed_organisation,
    seed_requests,
)
from kpis.services import snapshots_compute
from requests_app.models import ServiceRequest

KPI_BACKFILL_WEEKS = 27


class Command(BaseCommand):
    help = (
        "Create the demo organisation and requests spread over the past two quarters. "
        "Idempotent: a second run creates only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=300,
                            help="How many requests the demo should hold (default 300).")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, requests: int, seed: int, **options):
        seed_organisation()
        missing = max(0, requests - ServiceRequest.objects.count())
        if missing:
            with tqdm(total=missing, desc="Demo requests", unit="req",
                      disable=options["verbosity"] == 0) as bar:
                created = seed_requests(missing, seed=seed, progress=lambda n: bar.update(1))
            self.stdout.write(f"Created {created} demo requests.")
        else:
            self.stdout.write("Demo requests already present.")
        if seed_change_plan():
            self.stdout.write("Created the demo change plan.")
        # Backfill KPI snapshots over the demo's two quarters so the KPI pages show trends.
        written = snapshots_compute(weeks_back=KPI_BACKFILL_WEEKS)
        self.stdout.write(f"Wrote {written} KPI snapshots over {KPI_BACKFILL_WEEKS} weeks.")
        # Delay scans at each quarter end the demo spans, as beat would have run them, so the
        # overdue time of work still waiting is posted in the quarter it passed (not as one
        # big adjustment of closed quarters); then one now, before beat's first run.
        now = timezone.now()
        for boundary in quarter_ends(now - DEMO_SPAN, now):
            flag_delays(now=boundary)
        self.stdout.write(f"Delay scan: {flag_delays(now=now)}")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password “{DEMO_PASSWORD}”):"))
        for username, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<8} {role}")
