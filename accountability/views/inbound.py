"""The inbound webhook: mail a provider POSTs (docs/email-decisions.md, "A provider's
webhook"). Mailgun's signature is checked by django-anymail's view; without a signing key
configured the address does not exist."""

from __future__ import annotations

from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from kit.web import serves

_mailgun = MailgunInboundWebhookView.as_view()


@csrf_exempt
@serves(why="a mail server's POST, signed with the provider's key: it shows no one any rows")
def mailgun_inbound(request: HttpRequest) -> HttpResponse:
    if not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        raise Http404(_("No inbound webhook is configured."))
    return _mailgun(request)
