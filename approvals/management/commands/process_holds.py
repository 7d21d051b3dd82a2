from django.core.management.base import BaseCommand

from approvals.services import holds_process_due


class Command(BaseCommand):
    help = ("Remind requesters of unanswered questions and cancel requests past the limit "
            "(the same code the Celery beat job runs).")

    def handle(self, *args, **options):
        counts = holds_process_due()
        self.stdout.write(", ".join(f"{count} {what}" for what, count in counts.items()))
