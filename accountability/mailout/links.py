"""Signed action links: ``/notifications/act/<token>/``.

The token is Django's signed object (``django.core.signing``, a ``TimestampSigner`` with the
site's secret key and a salt of its own) holding the notification it was sent in, the step,
the approver the mail was written to, the step's version (its activation time, as the reply
address has it: ``accountability.mailin.address.step_version``) and the action. Changing any
of them breaks the signature; the signer's timestamp makes it expire after
``SRM_EMAIL_ACTION_MAX_AGE`` seconds. The notification's id is what makes it single-use: its
three links share one ``EmailActionUse`` row once one of them decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accountability.mailin.address import step_version

_SALT = "accountability.mailout.links"


class LinkAction:
    APPROVE = "approve"
    REJECT = "reject"
    ASK = "ask"
    ALL = (APPROVE, REJECT, ASK)
    LABELS = {APPROVE: _("Approve"), REJECT: _("Reject"), ASK: _("Ask a question")}


@dataclass(frozen=True)
class ActionToken:
    notification_id: int
    step_id: int
    approver_id: int
    version: str
    action: str
    expired: bool = False
    issued_at: datetime | None = None

    @property
    def expires_at(self) -> datetime | None:
        if self.issued_at is None:
            return None
        return self.issued_at + timedelta(seconds=settings.SRM_EMAIL_ACTION_MAX_AGE)


def action_token(*, notification, step, approver, action: str) -> str:
    if action not in LinkAction.ALL:
        raise ValueError(f"Unknown link action {action!r}")
    return signing.dumps(
        {"n": notification.pk, "s": step.pk, "a": approver.pk, "v": step_version(step),
         "d": action},
        salt=_SALT, compress=True,
    )


def action_url(*, notification, step, approver, action: str) -> str:
    path = reverse("notifications:act", args=[action_token(
        notification=notification, step=step, approver=approver, action=action)])
    return urljoin(settings.SRM_BASE_URL.rstrip("/") + "/", path.lstrip("/"))


def action_token_read(token: str) -> ActionToken | None:
    """What a token SRM signed says (``expired`` set once past its age, so the page can
    still say which request it was about), or None for anything else."""
    expired = False
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.SRM_EMAIL_ACTION_MAX_AGE)
    except signing.SignatureExpired:
        expired = True
        try:
            data = signing.loads(token, salt=_SALT)
        except signing.BadSignature:
            return None
    except signing.BadSignature:
        return None
    try:
        fields = (int(data["n"]), int(data["s"]), int(data["a"]), str(data["v"]), str(data["d"]))
    except (KeyError, TypeError, ValueError):
        return None
    if fields[4] not in LinkAction.ALL:
        return None
    return ActionToken(*fields, expired=expired, issued_at=_issued_at(token))


def _issued_at(token: str) -> datetime | None:
    """The signer's timestamp (base 62 seconds, between the value and the signature)."""
    try:
        stamp = token.rsplit(":", 2)[-2]
        return datetime.fromtimestamp(signing.b62_decode(stamp), tz=UTC)
    except (IndexError, ValueError):
        return None
