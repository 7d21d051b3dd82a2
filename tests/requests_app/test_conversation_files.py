"""Attachments are checked by size and by content, named safely, stored under a random key,
and a refused upload leaves nothing behind: neither a row nor a file."""

import re

import pytest

from approvals.signals import comment_added
from governance.errors import ValidationFailed
from requests_app.files import safe_name
from requests_app.models import Attachment, Comment
from requests_app.services_conversation import comment_add


def refused(org, request, upload, files):
    before = files.stored()
    with pytest.raises(ValidationFailed) as caught:
        comment_add(actor=org.alice, request=request, body="See attached", files=upload)
    assert Comment.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert files.stored() == before
    return caught.value


def test_an_oversize_file_is_refused_with_the_limit_and_nothing_is_stored(
    org, submit, files, settings
):
    settings.SRM_ATTACHMENT_MAX_BYTES = 100
    error = refused(org, submit(), [files.pdf("big-quote.pdf")], files)
    assert error.code == "file_too_large"
    assert error.message.startswith("“big-quote.pdf” is ")
    assert "files can be at most 100\xa0bytes" in error.message


def test_a_program_renamed_pdf_is_refused_by_its_content(org, submit, files):
    error = refused(org, submit(), [files.exe("invoice.pdf")], files)
    assert error.code == "file_type_not_allowed"
    assert "“invoice.pdf” is a Windows program, which cannot be attached" in error.message
    assert "Allowed: PDF, PNG, JPG" in error.message


def test_an_image_pretending_to_be_a_pdf_is_refused(org, submit, files):
    error = refused(org, submit(), [files.png("quote.pdf")], files)
    assert error.code == "file_type_mismatch"
    assert "Rename it to “quote.png”" in error.message


def test_one_bad_file_among_good_ones_stores_none_of_them(org, submit, files):
    refused(org, submit(), [files.pdf("a.pdf"), files.pdf("b.pdf"), files.exe("c.pdf")], files)


def test_a_file_written_before_a_failure_is_removed_again(org, submit, files):
    request = submit()
    before = files.stored()

    def fail(**kwargs):
        raise RuntimeError("notification outbox is down")

    comment_added.connect(fail, weak=False, dispatch_uid="t-fail")
    try:
        with pytest.raises(RuntimeError):
            comment_add(actor=org.alice, request=request, body="x", files=[files.pdf()])
    finally:
        comment_added.disconnect(dispatch_uid="t-fail")
    assert files.stored() == before
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\alice\\Desktop\\quote.pdf", "quote.pdf"),
    ("quo\x00te\x1b[31m.pdf", "quote[31m.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("  ..hidden.pdf", "hidden.pdf"),
    ("/", "file"),
    ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
])
def test_file_names_are_sanitised(raw, expected):
    assert safe_name(raw) == expected


def test_a_hostile_file_name_is_stored_safely_under_a_random_key(org, submit, files):
    request = submit()
    comment = comment_add(actor=org.alice, request=request, body="",
                          files=[files.pdf("../../../srm/settings\r\n\x07quote.pdf")])
    attachment = comment.attachments.get()
    assert attachment.original_name == "settingsquote.pdf"
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{32}", attachment.file.name)
    assert attachment.file.name in files.stored()
    assert attachment.size == len(files.minimal_pdf())
    assert attachment.content_type == "application/pdf"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("costs.csv", b"item;amount\nlaptop;1200\n", "text/csv"),
    ("notes.txt", "Grüße aus München\n".encode(), "text/plain"),
    ("notes", b"no extension\n", "text/plain"),
    ("offer.docx", None, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_allowed_types_are_detected_by_content(org, submit, files, name, content, expected):
    upload = files.docx(name) if content is None else files.upload(name, content)
    comment = comment_add(actor=org.alice, request=submit(), body="", files=[upload])
    attachment = comment.attachments.get()
    assert attachment.content_type == expected
    if name == "notes":
        assert attachment.original_name == "notes.txt"


def test_text_with_an_unexpected_extension_is_refused(org, submit, files):
    error = refused(org, submit(), [files.upload("page.html", b"<script>alert(1)</script>")],
                    files)
    assert error.code == "file_type_mismatch"
