"""Mail a provider POSTs: Mailgun's inbound routes, through django-anymail.

Mailgun receives the mail for the reply domain (its MX records) and a route forwards each
message to ``/mail/inbound/mailgun/``. Anymail's view checks the POST's signature (an HMAC of
its timestamp and token with the account's webhook signing key, ``MAILGUN_WEBHOOK_SIGNING_KEY``)
and answers 400 to anything unsigned or signed with another key; a signed message is sent as
Anymail's ``inbound`` signal, which ``on_inbound`` hands to the one reply service. A POST
Mailgun repeats (it retries until it gets a 2xx) carries the same Message-ID and decides
nothing twice.
"""

from __future__ import annotations

from accountability.models import InboundDoor
from accountability.services.replies import inbound_reply_process


def on_inbound(sender, event, esp_name, **kwargs) -> None:
    message = event.message
    inbound_reply_process(message, door=InboundDoor.WEBHOOK,
                          envelope_recipient=getattr(message, "envelope_recipient", None) or "")
