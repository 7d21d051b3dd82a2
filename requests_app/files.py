"""Checking uploaded files: a safe display name, the size limit and the type by content.

The type is detected from the file's bytes (the ``filetype`` package, plus a plain-text
sniff for text and CSV); the name's extension must agree with what the bytes are, so an
``.exe`` renamed ``.pdf`` is refused, and so is a PNG calling itself ``.pdf``.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.errors import ValidationFailed

# Bytes read to decide the type: enough for every ``filetype`` matcher (OOXML and ODF look
# at the first entries of the zip) and for the text sniff.
_HEAD_BYTES = 8192
_NAME_MAX = 200

# The extensions a detected type may carry; the first is added to a name without one.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
    "application/msword": (".doc",),
    "text/csv": (".csv",),
    "text/plain": (".txt", ".text", ".log", ".md"),
}

_DESCRIPTIONS = {
    "application/pdf": gettext_lazy("a PDF document"),
    "image/png": gettext_lazy("a PNG image"),
    "image/jpeg": gettext_lazy("a JPEG image"),
    "image/gif": gettext_lazy("a GIF image"),
    "image/webp": gettext_lazy("a WebP image"),
    "text/csv": gettext_lazy("a CSV file"),
    "text/plain": gettext_lazy("a plain-text file"),
    "application/x-msdownload": gettext_lazy("a Windows program"),
    "application/x-executable": gettext_lazy("a program"),
    "application/x-sh": gettext_lazy("a shell script"),
    "application/zip": gettext_lazy("a ZIP archive"),
}


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str
    size: int
    content_type: str


def safe_name(raw: str) -> str:
    """A display name that is safe anywhere: no folders (either separator), no control or
    invisible formatting characters (such as right-to-left overrides), no leading dots,
    at most 200 characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).lstrip(". ")
    if not name:
        name = "file"
    if len(name) > _NAME_MAX:
        stem, ext = os.path.splitext(name)
        ext = ext[:20]
        name = stem[: _NAME_MAX - len(ext)] + ext
    return name


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 3:
            text = head.decode("cp1252", errors="replace")
        else:
            text = head[: exc.start].decode("utf-8")
    return not any(
        unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text
    )


def detect_type(head: bytes, name: str) -> str | None:
    """The MIME type the bytes are, or None when neither a known format nor text."""
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return kind.mime
    if _looks_like_text(head):
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return None


def _describe(mime: str) -> str:
    if mime in _DESCRIPTIONS:
        return str(_DESCRIPTIONS[mime])
    ext = EXTENSIONS.get(mime, ("",))[0]
    if ext:
        return _("a %(kind)s file") % {"kind": ext.lstrip(".").upper()}
    return _("of type %(mime)s") % {"mime": mime}


def _allowed_summary() -> str:
    exts = []
    for mime in settings.SRM_ATTACHMENT_ALLOWED_TYPES:
        exts.extend(e.lstrip(".").upper() for e in EXTENSIONS.get(mime, ())[:1])
    return ", ".join(exts)


def check_upload(upload: UploadedFile) -> CheckedFile:
    """Validate one upload; raise ``ValidationFailed`` with a message naming the file."""
    name = safe_name(upload.name or "")
    limit = settings.SRM_ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationFailed(
            _("“%(name)s” is %(size)s; files can be at most %(limit)s.") % {
                "name": name, "size": filesizeformat(upload.size or 0),
                "limit": filesizeformat(limit)},
            code="file_too_large",
            field_errors={"files": [_("“%(name)s” is larger than %(limit)s.") % {
                "name": name, "limit": filesizeformat(limit)}]},
        )
    if upload.size == 0:
        empty = _("“%(name)s” is empty.") % {"name": name}
        raise ValidationFailed(empty, code="file_empty", field_errors={"files": [empty]})
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    upload.seek(0)
    mime = detect_type(head, name)
    allowed = settings.SRM_ATTACHMENT_ALLOWED_TYPES
    if mime is None or mime not in allowed:
        what = _("not a type SRM recognises") if mime is None else _describe(mime)
        message = _("“%(name)s” is %(what)s, which cannot be attached. Allowed: %(allowed)s.") % {
            "name": name, "what": what, "allowed": _allowed_summary()}
        raise ValidationFailed(message, code="file_type_not_allowed",
                               field_errors={"files": [message]})
    stem, ext = os.path.splitext(name)
    expected = EXTENSIONS.get(mime, ())
    if not ext and expected:
        name = safe_name(name + expected[0])
    elif expected and ext.lower() not in expected:
        message = _("“%(name)s” is %(what)s, not what its name says. "
                    "Rename it to “%(renamed)s” and attach it again.") % {
            "name": name, "what": _describe(mime), "renamed": f"{stem}{expected[0]}"}
        raise ValidationFailed(message, code="file_type_mismatch",
                               field_errors={"files": [message]})
    return CheckedFile(upload=upload, name=name, size=upload.size, content_type=mime)


def check_uploads(uploads) -> list[CheckedFile]:
    """Validate every upload before anything is stored, so a refused file stores nothing."""
    return [check_upload(upload) for upload in uploads or ()]
