"""Health endpoints, metrics, and the pages shown when something fails on our side."""

from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from kit.errors import ErrorCode
from kit.responses import error_response, is_api, too_large_message, too_large_response
from kit.web import serves
from operations import context, health, metrics
from operations.middleware import unavailable


@never_cache
@require_GET
@serves(why="the process's own liveness; reads no rows")
def live(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches no dependency: a restart would not fix any of them."""
    return JsonResponse({"status": "ok"})


def _answer(checks: dict[str, health.Check]) -> JsonResponse:
    failed = sorted(name for name, check in checks.items() if not check.ok)
    body = {"status": "fail" if failed else "ok", "failed": failed,
            "checks": {name: check.as_dict() for name, check in checks.items()}}
    response = JsonResponse(body, status=503 if failed else 200)
    if failed:
        response["Retry-After"] = "10"
    return response


@never_cache
@require_GET
@serves(why="dependency checks; reads no user's rows")
def ready(request: HttpRequest) -> JsonResponse:
    """Ready for traffic: database, broker, cache and migrations, each within
    ``SRM_HEALTH_TIMEOUT``; 503 names what failed."""
    return _answer(health.ready())


@never_cache
@require_GET
@serves(why="counts and ages of background work; no user's rows")
def jobs(request: HttpRequest) -> JsonResponse:
    """Background work for the operator: worker heartbeat, outbox backlog. Always 200 (the
    site itself is fine); ``status`` and ``failed`` say what needs attention."""
    response = _answer(health.jobs())
    response.status_code = 200
    response.headers.pop("Retry-After", None)
    return response


def token_allowed(request: HttpRequest) -> bool:
    """``Authorization: Bearer <SRM_METRICS_TOKEN>``; no token configured, no access."""
    expected = settings.SRM_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@never_cache
@require_GET
@serves(why="counts and timings for the operator's monitoring; no user's rows")
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, for ``Authorization: Bearer <SRM_METRICS_TOKEN>`` only. With
    no token configured the endpoint does not exist (404)."""
    if not settings.SRM_METRICS_TOKEN:
        raise Http404("No metrics: SRM_METRICS_TOKEN is not set.")
    if not token_allowed(request):
        response = HttpResponse("A valid bearer token is required.\n", status=401,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


# --- Django's error handlers (srm/urls.py): the API's error body under /api/ ------------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django could not take (a SuspiciousOperation: a bad Host, a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` read by a form, too many fields). A body too large is
    413, not 400."""
    if isinstance(exception, RequestDataTooBig):
        # A file stopped while it streamed in names its own limit (kit.uploads).
        limit = getattr(exception, "limit_bytes", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if is_api(request):
            return too_large_response(limit)
        return HttpResponse(loader.get_template("413.html").render({
            "message": getattr(exception, "message", too_large_message(limit)),
            "back": _same_site_referer(request)}), status=413)
    if is_api(request):
        return error_response(status=400, code=ErrorCode.MALFORMED_BODY,
                              message=_("The request could not be read; send it again."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_response(status=403, code=ErrorCode.FORBIDDEN,
                              message=str(exception) or _("You are not allowed to do this."))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error_response(status=404, code=ErrorCode.NOT_FOUND, message=(
            _("There is no API endpoint %(path)s (version 1 is under /api/v1/).")
            % {"path": request.path}))
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: under /api/ (a session's unsafe call without its token), the
    error body; elsewhere Django's page."""
    if is_api(request):
        return error_response(status=403, code=ErrorCode.FORBIDDEN, message=(
            _("CSRF check failed (%(reason)s): send the X-CSRFToken header with a session, or "
              "use a token (Authorization: Token …).") % {"reason": reason}))
    return django_csrf_failure(request, reason)


def _same_site_referer(request: HttpRequest) -> str:
    back = request.headers.get("Referer", "")
    return back if back.startswith(f"{request.scheme}://{request.get_host()}/") else ""


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page (or JSON body under /api/) tells the truth: the change may have been
    saved. It names the request id an operator finds in the logs."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return unavailable(request)  # raised before any view ran (sessions, login)
    request_id = context.request_id.get()
    if is_api(request):
        return error_response(
            status=500, code=ErrorCode.SERVER_ERROR, request_id=request_id,
            message=_("Something failed on our side. We could not confirm whether your "
                      "change was saved: read the object again before retrying. Quote "
                      "request id %(request_id)s to your administrator.")
            % {"request_id": request_id})
    back = _same_site_referer(request)
    template = loader.get_template("500.html")
    return HttpResponse(template.render({"request_id": request_id, "back": back,
                                         "path": request.path}), status=500)
