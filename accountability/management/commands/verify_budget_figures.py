"""``python manage.py verify_budget_figures [--repair]``: check that the stored budget
figures are the sums of the commitment ledger's postings (and carry the budgets set); with
``--repair``, rewrite them from the ledger. Exit status 0 when they agree (or were repaired),
1 otherwise (for a cron job or CI)."""

from django.core.management.base import BaseCommand, CommandError

from accountability.services.budget_figures import budget_figures_rebuild, budget_figures_verify


class Command(BaseCommand):
    help = ("Verify the stored budget figures against the commitment ledger; --repair "
            "rewrites them from the ledger.")

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true",
                            help="Rewrite the stored figures from the budgets and postings.")
        parser.add_argument("--show", type=int, default=20,
                            help="How many differences to name at most (default 20).")

    def handle(self, *args, repair: bool, show: int, **options):
        differences = budget_figures_verify()
        if not differences:
            self.stdout.write("OK: the stored budget figures are the sums of the ledger.")
            return
        for difference in differences[:show]:
            self.stderr.write(f"DIFFERS: {difference}")
        if not repair:
            raise CommandError(f"{len(differences)} stored budget figure(s) differ from the "
                               "ledger; run with --repair to rewrite them from it.")
        rows = budget_figures_rebuild()
        left = budget_figures_verify()
        if left:
            raise CommandError(f"{len(left)} figure(s) still differ after the repair.")
        self.stdout.write(f"Repaired: {len(differences)} figure(s) differed; {rows} rows "
                          "rewritten from the ledger.")
