from django.core.management.base import BaseCommand

from accountability.services.digests import digests_send


class Command(BaseCommand):
    help = "Write this week's governance digests (heads and ops leaders) and deliver them."

    def handle(self, *args, **options):
        result = digests_send()
        self.stdout.write(
            f"Digests: {result.heads} department head(s), {result.ops_leaders} ops leader(s); "
            f"{result.written} new this week (the others were already sent)."
        )
