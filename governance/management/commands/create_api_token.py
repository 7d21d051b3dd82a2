"""Print the API token of a user, creating it on first use (running it again prints the same).

    python manage.py create_api_token alice
    curl -H "Authorization: Token $(python manage.py create_api_token alice)" …/api/v1/me/
"""

from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from governance.models import User


class Command(BaseCommand):
    help = "Print USER's API token, creating it when they have none (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true",
                            help="Replace an existing token with a new one.")

    def handle(self, *args, username: str, rotate: bool, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user called “{username}”.") from None
        if not user.is_active:
            raise CommandError(f"{username} is inactive and cannot use the API.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
