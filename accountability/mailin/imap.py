"""Polling the reply mailbox over IMAP (imap-tools), from the Celery beat job
``accountability.tasks.poll_reply_mailbox``; settings ``SRM_IMAP_*``.

Each message in ``SRM_IMAP_FOLDER`` goes through ``inbound_reply_process`` and is then moved
to ``SRM_IMAP_PROCESSED_FOLDER`` (decided, refused or ignored: SRM made something of it) or,
when reading it failed, to ``SRM_IMAP_FAILED_FOLDER`` for a person to look at. A message
processed but not yet moved (the worker stopped in between) is processed again on the next
poll, finds its Message-ID recorded, decides nothing and is moved then. Every network call
has the ``SRM_IMAP_TIMEOUT`` of the socket; a database that went away leaves the message in
place for the next run (the task retries).
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

from accountability.models import InboundDoor
from accountability.services.replies import inbound_reply_process

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0


def _mailbox():
    host, port, timeout = settings.SRM_IMAP_HOST, settings.SRM_IMAP_PORT, settings.SRM_IMAP_TIMEOUT
    security = settings.SRM_IMAP_TLS.lower()
    if security == "ssl":
        return MailBox(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    if security == "starttls":
        return MailBoxStartTls(host, port, timeout=timeout,
                               ssl_context=ssl.create_default_context())
    if security == "none":
        return MailBoxUnencrypted(host, port, timeout=timeout)
    raise ValueError(f"SRM_IMAP_TLS is ssl, starttls or none, not {security!r}")


def reply_mailbox_poll(*, limit: int | None = None) -> PollResult:
    """Read up to ``limit`` (``SRM_IMAP_BATCH``) messages of the reply mailbox once."""
    result = PollResult()
    if not settings.SRM_IMAP_HOST:
        return result
    processed, failed = settings.SRM_IMAP_PROCESSED_FOLDER, settings.SRM_IMAP_FAILED_FOLDER
    with _mailbox().login(settings.SRM_IMAP_USER, settings.SRM_IMAP_PASSWORD,
                          initial_folder=settings.SRM_IMAP_FOLDER) as box:
        for folder in (processed, failed):
            if not box.folder.exists(folder):
                box.folder.create(folder)
        box.folder.set(settings.SRM_IMAP_FOLDER)
        uids = box.uids("ALL")[: limit or settings.SRM_IMAP_BATCH]
        for uid in uids:
            (fetched,) = list(box.fetch(uid_list=[uid], mark_seen=False)) or [None]
            if fetched is None:
                continue  # expunged meanwhile by someone else
            result.seen += 1
            try:
                outcome = inbound_reply_process(fetched.obj, door=InboundDoor.IMAP)
            except (OperationalError, InterfaceError):
                raise  # the database, not the message: try again on the next run
            except Exception:
                logger.exception("Inbound mail (IMAP uid %s) could not be read: moved to %s",
                                 uid, failed)
                box.move(uid, failed)
                result.failed += 1
                continue
            box.move(uid, processed)
            result.outcomes[outcome.outcome] = result.outcomes.get(outcome.outcome, 0) + 1
    return result
