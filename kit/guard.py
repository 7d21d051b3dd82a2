"""The request guard: input that no page or endpoint accepts is refused before any view runs.

- A body larger than ``SRM_MAX_REQUEST_BYTES`` (by its ``Content-Length``; Django reads no
  body without one) is answered 413 before a byte of it is read, and so is a body without
  files larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
- A JSON body nested deeper than ``SRM_JSON_MAX_DEPTH`` is answered 400 ``json_too_deep``,
  counted on the raw text before any parser sees it: Python's parser recurses per level,
  so a body nested 100,000 deep was a RecursionError (a 500) in whatever parsed it first.
- A NUL character (``\\0``) anywhere in the path, the query string, a form field, a JSON
  value or a cookie is answered 400 ``nul_character``. PostgreSQL cannot store NUL in text, so
  without this a NUL in a title, a comment or ``?q=`` became a 500 deep inside a service.
- So is any other control character (``CONTROL``: C0 but tab and line breaks, DEL, C1, lone
  surrogates), 400 ``control_character``, naming the field: no text field of SRM means one,
  and they break mail headers, exports and terminals that show the text later.
  This is the one place these checks live, for every form and every serializer alike.

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
from django.utils.translation import gettext as _

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
    return _("The JSON body nests deeper than %(limit)s levels of arrays and objects.") % {
        "limit": limit}


# Characters no text field accepts: C0 controls but tab, line feed and carriage return; DEL
# and the C1 controls (terminal escapes, invisible breaks); lone UTF-16 surrogates, which
# JSON can spell (``"\\ud800"``) but no database or encoder takes. NUL has its own code.
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _bad_text(value: str, pattern: re.Pattern) -> str | None:
    match = pattern.search(value)
    return match.group() if match else None


def find_bad(value: Any, pattern: re.Pattern, name: str = "") -> tuple[str, str] | None:
    """The first (field name, character) in ``value`` — text, or JSON-shaped data whose keys
    name the fields — that ``pattern`` matches, or None."""
    if isinstance(value, str):
        char = _bad_text(value, pattern)
        return (name, char) if char else None
    if isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            if char := _bad_text(key, pattern):
                return key, char
            if found := find_bad(item, pattern, key):
                return found
    if isinstance(value, list):
        for item in value:
            if found := find_bad(item, pattern, name):
                return found
    return None


def _fields(request: HttpRequest):
    """Every piece of text the request carries, as (field name, value) pairs; the body's
    fields only where Django or the API would read them as text."""
    yield "path", request.path
    yield "query string", request.META.get("QUERY_STRING", "")
    for key, values in request.GET.lists():
        yield key, key
        for value in values:
            yield key, value
    for key, value in request.COOKIES.items():
        yield key, value
    if request.method in ("GET", "HEAD", "OPTIONS") or not _content_length(request):
        return
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.path.startswith("/api/"):
            # The API reads JSON only (it answers 415 to a form without reading it), and the
            # few forms with files it takes through ``kit.api.validated``, which checks them.
            return
        for key, values in request.POST.lists():
            yield key, key
            for value in values:
                yield key, value
    elif _is_json(request):
        try:
            yield "", json.loads(request.body)
        except ValueError:
            return  # the API answers a parse error itself


def _refusal(request: HttpRequest) -> tuple[ErrorCode, str] | None:
    return text_refusal(list(_fields(request)))


def text_refusal(fields: list[tuple[str, Any]]) -> tuple[ErrorCode, str] | None:
    """Why no field accepts these (name, value) pairs — ``(code, message)`` — or None."""
    for pattern, code in ((re.compile(NUL), ErrorCode.NUL_CHARACTER),
                          (CONTROL, ErrorCode.CONTROL_CHARACTER)):
        for name, value in fields:
            found = find_bad(value, pattern, name)
            if found is None:
                continue
            field, char = found
            where = _("The field “%(field)s”") % {"field": field} if field else _("The request")
            if code == ErrorCode.NUL_CHARACTER:
                return code, _("%(where)s contains a NUL character (\\0), which no field "
                               "accepts. Remove it and send again.") % {"where": where}
            return code, _("%(where)s contains a control character (U+%(code)s), which no field "
                           "accepts: only tabs and line breaks may be in text. Remove it and "
                           "send again.") % {"where": where, "code": f"{ord(char):04X}"}
    return None


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if message := _too_big(request):
            return _error(request, status=413, code=ErrorCode.TOO_LARGE, message=message)
        if message := _too_deep(request):
            return _error(request, status=400, code=ErrorCode.JSON_TOO_DEEP, message=message)
        try:
            refusal = _refusal(request)
        except MultiPartParserError:
            return _error(request, status=400, code=ErrorCode.MALFORMED_BODY,
                          message=_("The form data could not be read; send it again."))
        if refusal:
            code, message = refusal
            return _error(request, status=400, code=code, message=message)
        return self.get_response(request)
