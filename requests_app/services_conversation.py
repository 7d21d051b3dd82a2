"""Writes on a request's conversation: comments, internal notes and attachments.

Files are checked (size, type by content, name) before anything is written, so a refused
file leaves neither a row nor a stored file; a file stored by a write that then fails is
deleted again before the error propagates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.signals import comment_added
from governance import limits
from governance.choices import AuditVerb
from governance.errors import NotAllowed, ValidationFailed
from governance.limits import checked_text
from governance.models import User
from governance.services.audit import audit_record
from requests_app.files import CheckedFile, check_uploads
from requests_app.models import Attachment, Comment, ServiceRequest, attachments_storage


def clean_text(value: str, *, field: str, what: str) -> str:
    """A comment, note, question or answer: stripped, at most ``limits.CONVERSATION_TEXT``."""
    return checked_text(value, limit=limits.CONVERSATION_TEXT, field=field, what=what)


@contextmanager
def files_discarded_on_error() -> Iterator[list[str]]:
    """Collects the storage names written inside the block; deletes them if it fails."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        storage = attachments_storage()
        for name in stored:
            storage.delete(name)
        raise


def comment_store(*, request: ServiceRequest, author: User | None, body: str, internal: bool,
                  files: list[CheckedFile], at: datetime, stored: list[str]) -> Comment:
    """Create a comment with its (already checked) files. The caller holds the request's
    lock, audits, and collects ``stored`` through ``files_discarded_on_error``."""
    comment = Comment.objects.create(
        request=request, author=author, body=body, internal=internal, created_at=at
    )
    if files:
        attachments_store(request=request, comment=comment, uploader=author, files=files, at=at,
                          stored=stored)
    return comment


def attachments_store(*, request: ServiceRequest, comment: Comment | None, uploader: User,
                      files: list[CheckedFile], at: datetime, stored: list[str]) -> list[Attachment]:
    attachments = []
    for checked in files:
        attachment = Attachment(
            request=request, comment=comment, original_name=checked.name, size=checked.size,
            content_type=checked.content_type, uploaded_by=uploader, created_at=at,
        )
        attachment.file.save(checked.name, checked.upload, save=False)
        stored.append(attachment.file.name)
        attachment.save()
        attachments.append(attachment)
    return attachments


def _describe(attachments: Iterable[Attachment]) -> list[dict]:
    return [
        {"id": str(a.uuid), "name": a.original_name, "size": a.size, "type": a.content_type}
        for a in attachments
    ]


def _lock_visible(actor: User, request: ServiceRequest) -> ServiceRequest:
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if not ServiceRequest.objects.restrict(actor, "view").filter(pk=locked.pk).exists():
        raise NotAllowed(_("You are not taking part in %(reference)s.") % {"reference": locked.reference},
                         code="not_participant")
    return locked


@transaction.atomic
def comment_add(*, actor: User, request: ServiceRequest, body: str, internal: bool = False,
                files: Iterable[UploadedFile] = (), at: datetime | None = None) -> Comment:
    """Add a comment (or, with ``internal``, a note the requester never sees) to the request's
    timeline, with optional attachments. Anyone who may see the request may comment."""
    at = at or timezone.now()
    body = clean_text(body, field="body", what=gettext_lazy("comment"))
    checked = check_uploads(files)
    if not body and not checked:
        empty = _("Write a comment or attach a file.")
        raise ValidationFailed(empty, code="comment_empty", field_errors={"body": [empty]})
    request = _lock_visible(actor, request)
    if internal and not ServiceRequest.objects.restrict(actor, "internal").filter(
        pk=request.pk
    ).exists():
        raise NotAllowed(
            _("Only the departments working on %(reference)s and ops leaders can write "
              "internal notes; the requester never sees them.") % {"reference": request.reference},
            code="internal_not_allowed",
        )
    with files_discarded_on_error() as stored:
        comment = comment_store(request=request, author=actor, body=body, internal=internal,
                                files=checked, at=at, stored=stored)
        audit_record(
            actor=actor,
            verb=AuditVerb.NOTE_ADDED if internal else AuditVerb.COMMENT_ADDED,
            target=comment,
            correlation=request.audit_correlation,
            data={"request": request.reference, "internal": internal,
                  "attachments": _describe(comment.attachments.all())},
            at=at,
        )
        comment_added.send(sender=Comment, comment=comment, at=at)
    return comment


@transaction.atomic
def attachment_add(*, actor: User, request: ServiceRequest, files: Iterable[UploadedFile],
                   comment: Comment | None = None, at: datetime | None = None) -> list[Attachment]:
    """Attach files to the request itself, or to a comment of the actor's own."""
    at = at or timezone.now()
    checked = check_uploads(files)
    if not checked:
        none = _("Choose at least one file.")
        raise ValidationFailed(none, code="no_files", field_errors={"files": [none]})
    request = _lock_visible(actor, request)
    if comment is not None and (comment.request_id != request.pk or comment.author_id != actor.pk):
        raise NotAllowed(_("You can add files only to your own comments."), code="not_author")
    internal = comment is not None and comment.internal
    with files_discarded_on_error() as stored:
        attachments = attachments_store(request=request, comment=comment, uploader=actor,
                                        files=checked, at=at, stored=stored)
        for attachment in attachments:
            audit_record(
                actor=actor,
                verb=AuditVerb.ATTACHMENT_ADDED,
                target=attachment,
                correlation=request.audit_correlation,
                data={"request": request.reference, "internal": internal,
                      **_describe([attachment])[0]},
                at=at,
            )
    return attachments
