"""The request guard: input that no page or endpoint accepts is refused before any view runs.

- A body larger than ``SRM_MAX_REQUEST_BYTES`` (by its ``Content-Length``; Django reads no
  body without one) is answered 413 before a byte of it is read, and so is a body without
  files larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
- A JSON body nested deeper than ``SRM_JSON_MAX_DEPTH`` is answered 400 ``json_too_deep``,
  counted on the raw text before any parser sees it: Python's parser recurses per level,
  so a body nested 100,000 deep was a RecursionError (a 500) in whatever parsed it first.
- A NUL character (``\\0``) anywhere in the path, the query string, a form field, a JSON
  value or a cookie is answered 400. PostgreSQL cannot store NUL in text, so without this a
  NUL in a title, a comment or ``?q=`` became a 500 deep inside a service. This is the one
  place that check lives, for every form and every serializer alike.

The API gets its JSON error body (``kit.api.error_body``); pages get a short plain answer.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from kit.errors import ErrorCode
from kit.responses import error_response, is_api, too_large_message

NUL = "\x00"


def _error(request: HttpRequest, *, status: int, code: str, message: str) -> HttpResponse:
    if is_api(request):
        return error_response(status=status, code=code, message=message)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


# A JSON string (its escapes included), and the brackets that open and close a level.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_LEVEL = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (JSON text, possibly malformed), counted
    without parsing it: brackets inside strings do not count."""
    brackets = _BRACKETS.findall(_JSON_STRING.sub(b"", raw))
    return max(accumulate(_LEVEL[b[0]] for b in brackets), default=0)


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or request.content_type.endswith("+json")


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
    return too_large_message(limit)


def _too_deep(request: HttpRequest) -> str | None:
    if request.method in ("GET", "HEAD", "OPTIONS") or not _content_length(request):
        return None
    if not _is_json(request):
        return None
    limit = settings.SRM_JSON_MAX_DEPTH
    if json_depth(request.body) <= limit:
        return None
    return f"The JSON body nests deeper than {limit} levels of arrays and objects."


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
    if _is_json(request):
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
            return _error(request, status=413, code=ErrorCode.TOO_LARGE, message=message)
        if message := _too_deep(request):
            return _error(request, status=400, code=ErrorCode.JSON_TOO_DEEP, message=message)
        try:
            nul = _nul_in(request)
        except MultiPartParserError:
            return _error(request, status=400, code=ErrorCode.MALFORMED_BODY,
                          message="The form data could not be read; send it again.")
        if nul:
            return _error(request, status=400, code=ErrorCode.NUL_CHARACTER,
                          message="The request contains a NUL character (\\0), which no field "
                                  "accepts. Remove it and send again.")
        return self.get_response(request)
