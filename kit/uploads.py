"""Uploads are counted while they stream in, and refused at their limit.

The request guard (``kit.guard``) refuses a body whose ``Content-Length`` is over
``SRM_MAX_REQUEST_BYTES`` before reading it; within that, one file may still be far larger
than what the page accepts (a 30 MiB attachment where 10 MiB are allowed). This handler,
first of ``FILE_UPLOAD_HANDLERS``, counts each file's bytes as Django reads them and stops
at the page's limit: the request is answered 413 (``RequestDataTooBig`` → the 400 handler,
``operations.views.bad_request``: a page naming the file and the limit, the API's error body
under /api/), and neither the rest of the file nor a temporary file of it is kept.

A page says which setting bounds its files with ``@upload_limit("SRM_IMPORT_MAX_BYTES")``;
any other takes ``SRM_ATTACHMENT_MAX_BYTES``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve

DEFAULT_LIMIT_SETTING = "SRM_ATTACHMENT_MAX_BYTES"


class UploadTooLarge(RequestDataTooBig):
    """A file over its page's limit, found while it streamed in."""

    def __init__(self, limit_bytes: int, name: str = ""):
        self.limit_bytes = limit_bytes
        self.message = (f"“{name or 'The file'}” is larger than {filesizeformat(limit_bytes)}, "
                        "the most this page accepts.")
        super().__init__(self.message)


def upload_limit(setting: str):
    """Declare the setting that bounds the size of each file posted to this view."""
    def decorate(view):
        view.srm_upload_limit = setting
        return view
    return decorate


def limit_for(path: str) -> int:
    try:
        view = resolve(path).func
    except Resolver404:
        view = None
    setting = getattr(view, "srm_upload_limit", None) or DEFAULT_LIMIT_SETTING
    return int(getattr(settings, setting))


class SizeLimitUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = limit_for(self.request.path_info)
        return None  # the next handlers read the body as usual

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.limit, self.file_name)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file
