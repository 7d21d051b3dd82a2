"""Create a SCIM provisioning token for an identity provider (created when new) and print its
secret, once: only a keyed hash is stored.

    python manage.py create_scim_token "Entra ID"
    python manage.py create_scim_token Okta --rotate
"""

from django.core.management.base import BaseCommand

from governance.models import IdentityProvider, ScimToken
from governance.services.tokens import scim_token_create, scim_token_revoke


class Command(BaseCommand):
    help = "Create a SCIM bearer token for PROVIDER and print its secret (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("provider", help="The identity provider's name (Entra ID, Okta, …).")
        parser.add_argument("--rotate", action="store_true",
                            help="Revoke the provider's other tokens first.")

    def handle(self, *args, provider: str, rotate: bool, **options):
        idp, _created = IdentityProvider.objects.get_or_create(name=provider.strip()[:100])
        if rotate:
            for token in ScimToken.objects.filter(provider=idp, revoked_at__isnull=True):
                scim_token_revoke(token=token, actor=None)
        _token, secret = scim_token_create(provider=idp, actor=None)
        self.stderr.write(f"SCIM token for {idp.name}. The secret is shown this once:")
        self.stdout.write(secret)
