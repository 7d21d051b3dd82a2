from django.core.management.base import BaseCommand

from accountability.services.risks import flag_delays


class Command(BaseCommand):
    help = "Run the delay scan once (the same code the Celery beat job runs every minute)."

    def handle(self, *args, **options):
        result = flag_delays()
        self.stdout.write(str(result))
