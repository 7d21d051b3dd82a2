"""What every page shares: the one mapping from domain errors to responses, the htmx test,
and the middleware that shows times in the viewer's timezone.

Views translate; services decide. A view fetches the object through the model's
``restrict(user, …)`` rule (invisible → 404) and calls the service; whatever the service
refuses comes back here as a ``DomainError`` and leaves as a flash message, form errors, an
inline row error (htmx) or the 403 page — never a 500.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import zoneinfo
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from kit.errors import DomainError, NotAllowed
from kit.rules import Serving


def serves(*models, why: str = ""):
    """Declare the models whose rows a page shows or acts on. Each must be read through its
    visibility rule (``Model.objects.restrict(user, …)``) before the page answers; with
    ``SRM_CHECK_RULES`` on, a page that did not is an error. A page that serves no model's
    rows says ``why`` instead (``@serves(why="a redirect to the person's work")``)."""
    if not models and not why:
        raise TypeError("@serves() needs the models served, or why= none is")

    def decorate(view):
        where = f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def serving(request, *args, **kwargs):
            with Serving(models, where) as served:
                response = view(request, *args, **kwargs)
                served.check(response.status_code)
            return response

        serving.srm_serves = tuple(models)
        serving.srm_serves_why = why
        return serving

    return decorate


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def add_field_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's ``field_errors`` on ``form`` so each shows next to its input (and the
    input keeps what was typed); errors about no field of the form become form errors."""
    if not hasattr(form, "cleaned_data"):
        form.is_valid()
    for field, errors in exc.field_errors.items():
        target = field if field in form.fields else None
        already = form.errors.get(target or "__all__", [])
        for error in errors:
            if error not in already:
                form.add_error(target, error)
    if not exc.field_errors:
        form.add_error(None, exc.message)


def domain_error_response(
    request: HttpRequest,
    exc: DomainError,
    *,
    page: Callable[..., HttpResponse],
    row: Callable[..., HttpResponse] | None = None,
    form: forms.Form | None = None,
) -> HttpResponse:
    """The response for a refused action, with the error's status (400, 403, 409).

    - htmx with a ``row`` renderer: the row comes back with the message inline, so the person
      stays in the list (``row(error=…, status=…)``);
    - ``NotAllowed`` on a full page: the friendly 403 page with the reason;
    - otherwise the ``page`` is rendered again (``page(status=…)``) with the message as a flash,
      or — when there is a ``form`` and the error names fields — as inline form errors.
    """
    if form is not None:
        add_field_errors(form, exc)
    if row is not None and is_htmx(request):
        return row(error=exc.message, status=exc.status)
    if isinstance(exc, NotAllowed):
        raise PermissionDenied(exc.message)
    if form is None:
        messages.error(request, exc.message)
    return page(status=exc.status)


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` the form asked to return to, when it points inside this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site or a URL of its host; anything else (``{{7*7}}``) is no URL at all,
    # and ``redirect()`` would take it for the name of a view.
    if target.startswith(("/", "http://", "https://")) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class TimezoneMiddleware:
    """Show times in the viewer's timezone (their own, else the organisation's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = user.timezone
        try:
            timezone.activate(zoneinfo.ZoneInfo(name or settings.TIME_ZONE))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.TIME_ZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False)
               for net in getattr(settings, "TRUSTED_PROXIES", []))


class ForwardedProtoMiddleware:
    """``X-Forwarded-Proto`` only from a proxy in ``TRUSTED_PROXIES``: from any other address
    the header is dropped before ``request.is_secure()`` reads it (``SECURE_PROXY_SSL_HEADER``),
    so a client that reaches the app directly cannot claim HTTPS over plain HTTP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if ("HTTP_X_FORWARDED_PROTO" in request.META
                and not _trusted_proxy(request.META.get("REMOTE_ADDR", ""))):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)


class DateInput(forms.DateInput):
    """``<input type="date">`` with its value in ISO (yyyy-mm-dd), the one format the browser
    reads there; the locale's format (``30/11/2026`` in en-GB) left it empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class QuickSelect(forms.Select):
    """``<select>`` written out directly, with the markup of Django's template: that template
    renders one ``{% include %}`` per option, and a filter offering every department and
    service (hundreds of options) took longer to render than the page's fifty rows."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = []

        def add(choices) -> None:
            for option_value, label in choices:
                if isinstance(label, list | tuple):
                    options.append(f'  <optgroup label="{_escape(option_value)}">')
                    add(label)
                    options.append("  </optgroup>")
                    continue
                text = "" if option_value is None else str(option_value)
                selected = text in chosen and (self.allow_multiple_selected or not picked)
                if selected:
                    picked.append(text)
                options.append(f'  <option value="{_escape(text)}"'
                               f'{" selected" if selected else ""}>{_escape(label)}</option>')

        picked: list[str] = []
        add(self.choices)
        widget_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            widget_attrs["multiple"] = True
        return mark_safe(f'<select name="{_escape(name)}"{_attributes(widget_attrs)}>\n'  # noqa: S308
                         + "\n".join(options) + "\n</select>")


def _escape(text) -> str:
    """Django's ``escape`` without its lazy-string wrapper (called once per option)."""
    return html.escape(str(text))


def _attributes(attrs: dict) -> str:
    return "".join(f" {name}" if value is True else f' {name}="{_escape(value)}"'
                   for name, value in attrs.items() if value is not False and value is not None)


def client_ip(request: HttpRequest) -> str:
    """The address a request came from: ``REMOTE_ADDR``, or behind a reverse proxy named in
    ``TRUSTED_PROXIES`` the last ``X-Forwarded-For`` hop that is not such a proxy (the hops a
    client writes itself come before the ones the proxies append, so they are never read)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted_proxy(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote
    return remote
