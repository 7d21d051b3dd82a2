"""Request ids, the access log line, and the error answers of last resort."""

from __future__ import annotations

import logging
import time

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from kit.errors import ErrorCode
from kit.responses import error_response, is_api
from operations import context

access_log = logging.getLogger("srm.access")
logger = logging.getLogger(__name__)

HEADER = "X-Request-ID"
RETRY_AFTER = "30"


class RequestIdMiddleware:
    """First in the chain: every log line of the request (and of the tasks it enqueues)
    carries its id, accepted from ``X-Request-ID`` or generated, and returned in the response.
    One access line per request with its status and duration."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        request_id = context.new_request_id(request.headers.get(HEADER))
        variables = (context.request_id, context.user_id, context.reference, context.request)
        tokens = [var.set(value) for var, value in
                  zip(variables, (request_id, None, "", request), strict=True)]
        request.request_id = request_id
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            access_log.info(
                "%s %s %s %.1f ms", request.method, request.path, response.status_code,
                duration_ms,
                extra={"method": request.method, "path": request.path,
                       "status": response.status_code, "duration_ms": duration_ms})
            return response
        finally:
            for var, token in zip(variables, tokens, strict=True):
                var.reset(token)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # The user is read by the log lines themselves once the view has authenticated it
        # (operations.logs): reading it here would load every request's session.
        reference = view_kwargs.get("reference")
        if isinstance(reference, str):
            context.reference.set(reference[:40])

    def process_exception(self, request: HttpRequest, exception: Exception):
        """The database is unreachable: 503 with ``Retry-After`` (JSON under /api/), logged
        once with the request id, instead of a 500."""
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("Database unavailable: %s", exception, exc_info=exception)
        return unavailable(request)


def unavailable(request: HttpRequest) -> HttpResponse:
    request_id = context.request_id.get()
    message = _("The database is unavailable right now. We could not confirm whether your "
                "change was saved: check it before trying again, in a minute.")
    if is_api(request):
        response: HttpResponse = error_response(status=503, code=ErrorCode.UNAVAILABLE,
                                                message=message, request_id=request_id)
    else:
        response = HttpResponse(loader.get_template("503.html").render(
            {"request_id": request_id}), status=503)
    response["Retry-After"] = RETRY_AFTER
    return response
