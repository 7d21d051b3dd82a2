"""Message-IDs of SRM's e-mails: each mail its own, and one stable id per request that every
mail about it refers to (``In-Reply-To`` / ``References``), so a mail client shows one
request's mails as one conversation. Stable: computed from ids, never stored, so the id of a
mail is known again when a reply quotes it or a link records which mail it came from."""

from __future__ import annotations

from django.conf import settings


def mail_domain() -> str:
    """The right-hand side of SRM's Message-IDs: the sender address's domain."""
    sender = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
    domain = sender.rpartition("@")[2] or "localhost"
    return "".join(ch for ch in domain.lower() if ch.isalnum() or ch in ".-") or "localhost"


def notification_message_id(notification) -> str:
    return f"<srm.notification.{notification.pk}@{mail_domain()}>"


def request_thread_id(reference: str) -> str:
    """The conversation's root: ``<srm.request.SR-2026-000123@example.com>``."""
    safe = "".join(ch for ch in reference if ch.isalnum() or ch in ".-_")
    return f"<srm.request.{safe}@{mail_domain()}>"
