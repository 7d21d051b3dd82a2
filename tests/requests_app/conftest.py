"""Helpers for the conversation tests: files as a browser would upload them."""

from __future__ import annotations

import io
import os
import zipfile
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_app.models import attachments_storage


def minimal_pdf() -> bytes:
    """A small, valid one-page PDF (catalog, pages, page, cross-reference table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
# The start of a Windows executable: "MZ", then the DOS header.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> list[str]:
    root = attachments_storage().location
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root) for name in names
    )


@pytest.fixture
def files():
    """``files.pdf("quote.pdf")``, ``files.png(...)``, ``files.exe(...)``, ``files.docx(...)``,
    ``files.upload(name, bytes)`` and ``files.stored()`` (what the attachment storage holds)."""
    return SimpleNamespace(
        pdf=lambda name="quote.pdf": upload(name, minimal_pdf(), "application/pdf"),
        png=lambda name="photo.png": upload(name, PNG, "image/png"),
        exe=lambda name="setup.exe": upload(name, EXE, "application/pdf"),
        docx=lambda name="offer.docx": upload(name, docx()),
        upload=upload,
        stored=stored_files,
        minimal_pdf=minimal_pdf,
    )
