"""``python manage.py verify_audit``: walk the audit trail's hash chains and name the first
broken links. Exit status 0 when every link holds, 1 otherwise (for a cron job or CI)."""

from django.core.management.base import BaseCommand, CommandError

from governance.services.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; name the first broken links."

    def add_arguments(self, parser):
        parser.add_argument("--show", type=int, default=20,
                            help="How many broken links to name at most (default 20).")

    def handle(self, *args, show: int, **options):
        check = audit_chain_verify(limit_broken=show)
        if not check.supported:
            self.stdout.write("The audit chain is kept by PostgreSQL; this database (the "
                              "embedded SQLite) has no chain to verify.")
            return
        if check.broken:
            for problem in check.broken:
                self.stderr.write(f"BROKEN: {problem}")
            raise CommandError(
                f"The audit trail does not verify: {len(check.broken)} broken link(s) shown "
                f"among {check.events} events in {check.chains} chains. The first: "
                f"{check.broken[0]}."
            )
        self.stdout.write(f"OK: {check.events} audit events in {check.chains} chains verified. "
                          f"Head {check.head}")
