import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from demo.budgets import seed_budgets
from demo.history import history_start, seed_history
from demo.organisation import DEMO_LOGINS, DEMO_PASSWORD, seed_change_plan, seed_organisation
from governance.periods import complete_weeks
from kpis.services import snapshots_compute
from requests_app.models import ServiceRequest


class Command(BaseCommand):
    help = (
        "Create the demo organisation and its requests: five quarters of history and a "
        "working week in progress. Idempotent: a second run creates only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=300,
                            help="How many requests the demo should hold (default 300).")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--no-logins", action="store_true",
                            help="Do not list the demo logins at the end.")

    def handle(self, *args, requests: int, seed: int, no_logins: bool, **options):
        started = time.monotonic()
        now = timezone.now()
        seed_organisation()
        if ServiceRequest.objects.exists():
            self.stdout.write("Demo data already present.")
        else:
            # On a fresh database only: history is played in time order, so it cannot be
            # appended to one that has moved on.
            created = seed_history(requests, seed=seed, now=now)
            seed_change_plan(now=now)
            # Budgets for the recent quarters, set once the history booked its commitments.
            seed_budgets(now=now)
            # KPI snapshots for every week of the history, so the KPI pages show trends.
            weeks = len([w for w in complete_weeks(until=now, weeks_back=80)
                         if w >= history_start(now)])
            snapshots_compute(until=now, weeks_back=weeks)
            self.stdout.write(
                f"Demo data: {created} requests since {history_start(now):%Y-%m-%d} "
                f"({time.monotonic() - started:.1f} s).")
        if not no_logins:
            self.stdout.write(self.style.SUCCESS(f"Demo logins (password “{DEMO_PASSWORD}”):"))
            for username, role in DEMO_LOGINS:
                self.stdout.write(f"  {username:<8} {role}")
