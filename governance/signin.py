"""django-axes' hook into every sign-in (the login page, the admin's): the failures are counted
by ``governance.logins`` in the shared cache, a lockout that starts is recorded with its audit
event by ``governance.services.logins``. ``AXES_HANDLER`` names ``SignInHandler``."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.helpers import get_client_username

from governance import logins
from governance.choices import LockoutScope
from governance.services.logins import login_lockout_extend, login_lockout_start
from kit.web import client_ip


def _counters(request, credentials) -> list[logins.Counter]:
    return logins.counters(username=get_client_username(request, credentials),
                           ip_address=client_ip(request))


def _valid_ip(text: str) -> str | None:
    """An address the lockout record can store (a server behind a unix socket may have none)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class SignInHandler(AbstractAxesHandler, AxesBaseHandler):
    """Per-account and per-address lockouts with a doubling wait (``governance.logins``)."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        until = logins.locked_until(_counters(request, credentials))
        if until is not None:
            request.srm_locked_until = until
        return until is not None

    def get_failures(self, request, credentials: dict | None = None) -> int:
        return logins.failures_of(_counters(request, credentials))

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if request is None or self.is_whitelisted(request, credentials):
            return
        username = get_client_username(request, credentials) or ""
        ip_address = _valid_ip(client_ip(request))
        for counter in _counters(request, credentials):
            failure = logins.failure_record(counter)
            if failure.until is None:
                continue
            record = login_lockout_start if failure.started else login_lockout_extend
            record(scope=LockoutScope(counter.scope), username=username, ip_address=ip_address,
                   failures=failure.failures,
                   until=datetime.fromtimestamp(failure.until, tz=UTC))
        if self.is_locked(request, credentials):
            # AxesMiddleware answers with the lockout page (settings.AXES_LOCKOUT_CALLABLE).
            request.axes_locked_out = True
            request.axes_credentials = credentials

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        logins.signed_in(username=user.get_username())

    def user_logged_out(self, sender, request, user, **kwargs) -> None:
        return None

    def reset_attempts(self, *, ip_address: str | None = None, username: str | None = None,
                       ip_or_username: bool = False) -> int:
        """For axes' ``axes_reset_ip`` / ``axes_reset_username`` commands."""
        cleared = 0
        if username:
            logins.counts_clear(scope=LockoutScope.ACCOUNT, username=username)
            cleared += 1
        if ip_address:
            logins.counts_clear(scope=LockoutScope.ADDRESS, ip_address=ip_address)
            cleared += 1
        return cleared
