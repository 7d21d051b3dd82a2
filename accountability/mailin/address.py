"""The per-step reply address: ``approvals+<token>@SRM_REPLY_DOMAIN``.

The token is ``<step>-<approver>-<version>-<mac>``: the step's id, the id of the person the
e-mail was written to, the step's version (its activation time, so a step sent back to
approval and activated again gets a new one) and an HMAC over the three with the site's
secret key. Anyone can write to the address; only a token SRM made names a step, and it is
worth nothing for another step, another approver or a later activation.

Everything is lower case digits and letters: some mail servers lower-case the local part,
and the whole address stays within the 64 characters a local part may hold.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "accountability.mailin.address"
_MAC_CHARS = 20  # 100 bits
_TOKEN = re.compile(r"^(\d{1,10})-(\d{1,10})-([0-9a-z]{1,13})-([a-z2-7]{" + str(_MAC_CHARS) + r"})$")


@dataclass(frozen=True)
class ReplyToken:
    step_id: int
    approver_id: int
    version: str


def step_version(step) -> str:
    """The step's version: its activation time in microseconds, base 36."""
    if step.activated_at is None:
        return "0"
    micros = int(step.activated_at.timestamp() * 1_000_000)
    digits = ""
    while micros:
        micros, rest = divmod(micros, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits or "0"


def _mac(payload: str, secret: str) -> str:
    digest = salted_hmac(_SALT, payload, secret=secret, algorithm="sha256").digest()
    return base64.b32encode(digest).decode().lower()[:_MAC_CHARS]


def reply_token(*, step_id: int, approver_id: int, version: str) -> str:
    payload = f"{step_id}-{approver_id}-{version}"
    return f"{payload}-{_mac(payload, settings.SECRET_KEY)}"


def reply_address(step, approver) -> str | None:
    """The ``Reply-To`` of an e-mail asking ``approver`` to decide ``step``; None when no
    reply domain is configured (``SRM_REPLY_DOMAIN``)."""
    domain = settings.SRM_REPLY_DOMAIN
    if not domain or approver is None:
        return None
    token = reply_token(step_id=step.pk, approver_id=approver.pk, version=step_version(step))
    return f"{settings.SRM_REPLY_MAILBOX}+{token}@{domain}"


def reply_token_read(address: str) -> ReplyToken | None:
    """The token of a reply address SRM made, or None (another address, a token altered or
    made with another key)."""
    domain = settings.SRM_REPLY_DOMAIN
    if not domain or "@" not in address:
        return None
    local, _, host = address.strip().lower().rpartition("@")
    prefix = settings.SRM_REPLY_MAILBOX.lower() + "+"
    if host != domain.lower() or not local.startswith(prefix):
        return None
    match = _TOKEN.match(local[len(prefix):])
    if match is None:
        return None
    step_id, approver_id, version, mac = match.groups()
    payload = f"{step_id}-{approver_id}-{version}"
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(mac, _mac(payload, secret)) for secret in secrets):
        return None
    return ReplyToken(step_id=int(step_id), approver_id=int(approver_id), version=version)
