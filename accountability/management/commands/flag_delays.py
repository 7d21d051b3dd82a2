from django.core.management.base import BaseCommand

from accountability.monitoring import delay_scan_run


class Command(BaseCommand):
    help = "Run the delay scan once (the same code the Celery beat job runs every minute)."

    def handle(self, *args, **options):
        result = delay_scan_run()
        self.stdout.write(str(result))
