"""The request guard: input that no page or endpoint accepts is refused before any view runs.

- A body larger than ``SRM_MAX_REQUEST_BYTES`` (by its ``Content-Length``; Django reads no
  body without one) is answered 413 before a byte of it is read, and so is a body without
  files larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
- A NUL character (``\\0``) anywhere in the path, the query string, a form field, a JSON
  value or a cookie is answered 400. PostgreSQL cannot store NUL in text, so without this a
  NUL in a title, a comment or ``?q=`` became a 500 deep inside a service. This is the one
  place that check lives, for every form and every serializer alike.

The API gets its JSON error body (``kit.api.error_body``); pages get a short plain answer.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

NUL = "\x00"


def _error(request: HttpRequest, *, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"status": status, "code": code, "message": message,
                             "field_errors": {}}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def has_nul(value: Any) -> bool:
    """Whether ``value`` (text, or JSON-shaped data) contains a NUL character anywhere."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _too_big(request: HttpRequest) -> str | None:
    length = _content_length(request)
    if length > settings.SRM_MAX_REQUEST_BYTES:
        limit = settings.SRM_MAX_REQUEST_BYTES
    elif (length > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or length)
          and not request.content_type.startswith("multipart/")):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    else:
        return None
    return f"The request is too large: at most {limit // 1024:,} KiB are accepted here."


def _nul_in(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in request.META.get("QUERY_STRING", ""):
        return True
    if any(NUL in v for values in request.GET.lists() for v in [values[0], *values[1]]):
        return True
    if any(has_nul(v) for v in request.COOKIES.values()):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS") or not _content_length(request):
        return False
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.path.startswith("/api/"):
            return False  # the API reads JSON only: it answers 415 to a form without reading it
        return any(NUL in k or any(NUL in v for v in values)
                   for k, values in request.POST.lists())
    if request.content_type == "application/json" or request.content_type.endswith("+json"):
        try:
            return has_nul(json.loads(request.body))
        except ValueError:
            return False  # the API answers a parse error itself
    return False


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if message := _too_big(request):
            return _error(request, status=413, code="too_large", message=message)
        try:
            nul = _nul_in(request)
        except MultiPartParserError:
            return _error(request, status=400, code="malformed_body",
                          message="The form data could not be read; send it again.")
        if nul:
            return _error(request, status=400, code="nul_character",
                          message="The request contains a NUL character (\\0), which no field "
                                  "accepts. Remove it and send again.")
        return self.get_response(request)
