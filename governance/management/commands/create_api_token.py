"""Create an API token for a user and print its secret, once: only a keyed hash is stored,
so the secret cannot be shown again (run the command again for another token).

    python manage.py create_api_token alice --name "Nightly export"
    curl -H "Authorization: Token $(python manage.py create_api_token alice --name ci)" …/api/v1/me/
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.choices import TokenRevokedBecause
from governance.errors import DomainError
from governance.models import User
from governance.services.tokens import api_token_create, api_tokens_revoke_all


class Command(BaseCommand):
    help = "Create an API token for USER and print its secret (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Created on the command line",
                            help="What the token is for (shown on the API tokens page).")
        parser.add_argument("--days", type=int, default=None,
                            help=f"Valid this many days (default {settings.SRM_API_TOKEN_DAYS}).")
        parser.add_argument("--rotate", action="store_true",
                            help="Revoke the user's other tokens first.")

    def handle(self, *args, username: str, name: str, days: int | None, rotate: bool,
               **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user called “{username}”.") from None
        if not user.is_active:
            raise CommandError(f"{username} is inactive and cannot use the API.")
        if rotate:
            api_tokens_revoke_all(user=user, actor=None, because=TokenRevokedBecause.ROTATED)
        try:
            token, secret = api_token_create(user=user, name=name, days=days, actor=None)
        except DomainError as exc:
            problems = [m for messages in exc.field_errors.values() for m in messages]
            raise CommandError(" ".join(problems) or exc.message) from None
        self.stderr.write(f"Token “{token.name}” for {username}, valid until "
                          f"{token.expires_at:%Y-%m-%d}. The secret is shown this once:")
        self.stdout.write(secret)
