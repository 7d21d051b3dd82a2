"""The REST API's shared plumbing: version 1's URL table, pagination, throttles, and the one
error format every failure is answered with.

Every error response, whether raised by DRF (401, 403, 404, 405, 406, 415, 429, validation)
or by a service (``kit.errors.DomainError``), has this body::

    {"status": 409, "code": "already_decided", "message": "…", "field_errors": {"comment": ["…"]}}

``document_errors`` puts that body into the OpenAPI schema for every operation, so clients
and the fuzzer know what to expect.
"""

from __future__ import annotations

import logging
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import set_rollback

from kit.errors import DomainError, ValidationFailed
from kit.guard import text_refusal
from kit.responses import error_body, too_large_message
from kit.web import serves

logger = logging.getLogger("srm.api")


class TooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is too large.")

# --- Pagination, filters and throttles ------------------------------------------------------


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request) -> int:
        # DRF silently ignores a malformed page size; a client with a bug should hear of it.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("A whole number from 1 (pages hold at most %(most)s).")
                                              % {"most": self.max_page_size}]}
            )
        return super().get_page_size(request)

    def get_page_number(self, request, paginator) -> str:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise exceptions.ValidationError({self.page_query_param: [_("A page number: 1, 2, …")]})
        return super().get_page_number(request, paginator)


class _StrictBooleanField(forms.NullBooleanField):
    widget = forms.TextInput  # NullBooleanSelect would read "null" or "unknown" as "not given"

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")

    def validate(self, value) -> None:
        pass


class BooleanFilter(django_filters.BooleanFilter):
    """``true``/``false`` (or 1/0); anything else is a 400, not silently ignored."""

    field_class = _StrictBooleanField


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, except that a typed parameter given empty (``?state=``) is an
    error rather than silently ignored: the client meant something."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, spec in self.filters.items():
            if self.data.get(name, None) == "" and not isinstance(spec, django_filters.CharFilter):
                self.form.add_error(name, _("Give a value or leave the parameter out."))
                valid = False
        return valid


class AnonThrottle(AnonRateThrottle):
    # Read at call time (not import time) so the rate follows settings and tests can change it.
    def get_rate(self) -> str:
        return settings.SRM_API_THROTTLE_ANON


class ApiDocsPermission(BasePermission):
    """The schema and the interactive docs: for signed-in people and tokens, or for anyone
    when ``SRM_API_DOCS_PUBLIC`` says so (read at call time, so tests can change it)."""

    def has_permission(self, request, view) -> bool:
        return settings.SRM_API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str:
        return settings.SRM_API_THROTTLE_USER


def validated(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request body checked by ``serializer_class`` (a ValidationError becomes a 400).
    A form body (with files) is checked for NUL and control characters here, as the request
    guard checks every JSON body and page form (``kit.guard``)."""
    if isinstance(request.data, QueryDict):
        refusal = text_refusal([(key, value) for key, values in request.data.lists()
                                for value in [key, *values]])
        if refusal:
            code, message = refusal
            raise ValidationFailed(message, code=code)
    serializer = serializer_class(data=request.data if request.data is not None else {},
                                  context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- The error body -------------------------------------------------------------------------


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler: every API error, one body."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        body = error_body(status=exc.status, code=exc.code, message=exc.message,
                          field_errors={k: [str(m) for m in v] for k, v in exc.field_errors.items()})
        set_rollback()
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):
        # A file stopped while it streamed in (kit.uploads) names itself and its limit.
        exc = TooLarge(getattr(exc, "message", None) or too_large_message())
    elif isinstance(exc, (SuspiciousOperation, BadRequest)):
        exc = exceptions.ParseError(str(exc) or _("The request could not be read."))
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable (down, restarting, a statement timed out): not a bug.
        logger.error("Database unavailable in %s: %s", _view_name(context), exc)
        set_rollback()
        return Response(_failure_body(context, status=503, code="unavailable",
                                      what=_("The database is unavailable right now.")),
                        status=503, headers={"Retry-After": "30"})
    if not isinstance(exc, exceptions.APIException):
        # A bug: logged with its traceback, and the client still gets the JSON error body
        # (never Django's HTML page), with the request id that finds it in the log.
        logger.error("Unhandled error in %s", _view_name(context), exc_info=exc)
        set_rollback()
        return Response(_failure_body(context, status=500, code="server_error",
                                      what=_("Something went wrong on our side; it has been "
                                             "logged.")), status=500)
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    if isinstance(exc, exceptions.ValidationError):
        field_errors, general = _flatten(exc.detail)
        message = " ".join(general) or (
            _("Some fields need attention: %(fields)s.") % {"fields": ", ".join(sorted(field_errors))}
            if field_errors else _("The request is not valid.")
        )
        body = error_body(status=exc.status_code, code="invalid", message=message,
                          field_errors=field_errors)
    else:
        body = error_body(status=exc.status_code, code=exc.default_code, message=str(exc.detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _view_name(context: dict) -> str:
    return context.get("view").__class__.__name__


def _failure_body(context: dict, *, status: int, code: str, what: str) -> dict:
    """A failure on our side: the change may or may not have been saved, so say so, and give
    the request id (set by operations.middleware) an operator finds in the logs."""
    request = context.get("request")
    request_id = getattr(getattr(request, "_request", request), "request_id", "")
    message = " ".join([what, _("We could not confirm whether your change was saved: read the "
                                "object again before retrying.")])
    if request_id:
        message += " " + _("Request id: %(id)s.") % {"id": request_id}
    body = error_body(status=status, code=code, message=message)
    body["request_id"] = request_id
    return body


def _flatten(detail: Any, prefix: str = "") -> tuple[dict[str, list[str]], list[str]]:
    """DRF's nested error detail as ``({"field.sub": [messages]}, [general messages])``."""
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "detail") and not prefix:
                _, msgs = _flatten(value)
                general.extend(msgs)
                continue
            sub_fields, sub_general = _flatten(value, f"{prefix}{key}.")
            fields.update(sub_fields)
            if sub_general:
                fields.setdefault(f"{prefix}{key}", []).extend(sub_general)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                sub_fields, sub_general = _flatten(value, f"{prefix}{index}.")
                fields.update(sub_fields)
                general.extend(sub_general)
            else:
                general.append(str(value))
    else:
        general.append(str(detail))
    return fields, general


# --- The error body in the schema -----------------------------------------------------------

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `field_errors` says which field and why.",
    "401": "No or an invalid token/session. Send `Authorization: Token <key>`.",
    "403": "Authenticated, but not allowed to do this (for example, not the approver).",
    "404": "No such object, or not visible to you (or no such page).",
    "406": "The `Accept` header asks for something other than JSON.",
    "409": "The object changed state first (for example `already_decided`).",
    "415": "The body is not `application/json`.",
    "413": "The body is over the size limit; nothing was read or saved.",
    "429": "Too many requests: wait for `Retry-After` seconds.",
    "500": "A failure on our side: `request_id` finds it in the logs; the change may or may "
           "not have been saved, read the object again before retrying.",
    "503": "The database is unavailable: retry after `Retry-After` seconds; `request_id` as "
           "for 500.",
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def document_errors(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the ``Error`` body on every operation's error
    responses, so the schema says what a client receives for each failure."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        "type": "object",
        "description": "The body of every error response.",
        "properties": {
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "code": {"type": "string", "description": "Stable, machine-readable: branch on this."},
            "message": {"type": "string", "description": "What went wrong, for a person."},
            "field_errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Messages per input field (dotted for nested fields).",
            },
            "request_id": {
                "type": "string",
                "description": "On a failure on our side (500, 503): the id the logs and the "
                               "`X-Request-ID` header carry; quote it to the operator.",
            },
        },
        "required": ["status", "code", "message", "field_errors"],
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["401", "403", "406", "429", "500", "503"]
            if operation.get("parameters") or "requestBody" in operation:
                codes += ["400", "404"]
            if method != "get":
                codes += ["409", "413", "415"]
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, {
                    "description": _ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": _ERROR_REF}},
                })
    return result


# --- URLs -----------------------------------------------------------------------------------


@csrf_exempt  # it changes nothing, and must answer JSON to any method
@serves(why="the JSON 404 of an unknown API path")
def not_found(request, unknown: str = "") -> JsonResponse:
    return JsonResponse(
        error_body(status=404, code="not_found",
                   message=_("There is no API endpoint /api/v1/%(path)s (paths end with /).")
                   % {"path": unknown}),
        status=404,
    )
