"""Error answers built outside DRF, in the API's one error body (``kit.api``'s module doc):
for middleware, Django's error handlers and the request guard. Django only (no DRF), so any
middleware can import it before DRF is set up.

``too_large_response`` is the 413 every layer that refuses a body answers under /api/.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kit.errors import ErrorCode


def error_body(*, status: int, code: str, message: str, field_errors: dict | None = None) -> dict:
    return {"status": status, "code": code, "message": message, "field_errors": field_errors or {}}


def error_response(*, status: int, code: str, message: str, field_errors: dict | None = None,
                   request_id: str | None = None,
                   headers: dict[str, str] | None = None) -> JsonResponse:
    """The error body as a response, for code that answers outside DRF (middleware, Django's
    error handlers). A failure on our side adds the ``request_id`` the logs carry."""
    body = error_body(status=status, code=code, message=message, field_errors=field_errors)
    if request_id is not None:
        body["request_id"] = request_id
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def too_large_message(limit_bytes: int | None = None) -> str:
    if not limit_bytes:
        return _("The request body is too large.")
    return _("The request is too large: at most %(kib)s KiB are accepted here.") % {
        "kib": number_format(limit_bytes // 1024, force_grouping=True)}


def too_large_response(limit_bytes: int | None = None) -> JsonResponse:
    """413 with the API's error body: a body over ``limit_bytes`` (by its Content-Length or
    counted while it streams in)."""
    return error_response(status=413, code=ErrorCode.TOO_LARGE,
                          message=too_large_message(limit_bytes))


# The code of an error answered by something that gave only a status (Django's own views,
# ``require_http_methods``, a middleware): ``api_error_body`` rewrites those under /api/.
STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.MALFORMED_BODY,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    413: ErrorCode.TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.THROTTLED,
    500: ErrorCode.SERVER_ERROR,
    503: ErrorCode.UNAVAILABLE,
}
_STATUS_MESSAGES = {
    400: gettext_lazy("The request could not be read."),
    401: gettext_lazy("Authentication is required."),
    403: gettext_lazy("You are not allowed to do this."),
    404: gettext_lazy("There is no such API endpoint or object."),
    405: gettext_lazy("This method is not allowed here."),
    406: gettext_lazy("Only JSON is served (Accept: application/json)."),
    413: gettext_lazy("The request body is too large."),
    415: gettext_lazy("Send the body as application/json."),
    429: gettext_lazy("Too many requests: wait and try again."),
    500: gettext_lazy("Something went wrong on our side; it has been logged."),
    503: gettext_lazy("The service is unavailable right now; try again in a minute."),
}
# Headers that mean something to a client and survive the rewrite.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID")


def is_api(request) -> bool:
    return request.path.startswith("/api/")


class ErrorBodyMiddleware:
    """Under /api/, an error answered without the error body (an HTML page, plain text:
    Django's own 4xx views, ``require_http_methods``' 405) gets it, keeping the headers a client
    acts on. Outer in the chain, so it sees what every layer below answered."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code >= 400 and is_api(request)
                and not response.get("Content-Type", "").startswith("application/json")
                and not getattr(response, "streaming", False)):
            status = response.status_code
            code = STATUS_CODES.get(status, ErrorCode.SERVER_ERROR if status >= 500
                                    else ErrorCode.INVALID)
            message = str(_STATUS_MESSAGES.get(status) or _("The request failed (HTTP %(status)s).")
                          % {"status": status})
            rewritten = error_response(
                status=status, code=code, message=message,
                request_id=getattr(request, "request_id", "") if status >= 500 else None,
                headers={h: response[h] for h in _KEPT_HEADERS if response.has_header(h)})
            return rewritten
        return response
