"""Sessions read with their person: one statement per request instead of two.

Django's database sessions read the session row, then the authentication backend reads the
person the session names (``SELECT … FROM governance_user WHERE id = …``): two round trips
on every signed-in request. Here the session row carries the person's id in a column
(``UserSession.user``), so loading the session joins the person's row in the same statement;
the backend then checks that row exactly as it checks one it read itself (active, local
passwords open to them, the session's password hash), so a leaver or a changed password
still ends the session on the next request. Nothing is cached across requests.

    SESSION_ENGINE = "governance.identity.sessions"
    MIDDLEWARE = [… "governance.identity.sessions.AuthenticationMiddleware" …]
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from functools import partial

from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.auth.middleware import auser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from governance.models import UserSession

# The person read with the current request's session, while its user is being loaded.
_read_with_session: ContextVar[object | None] = ContextVar("srm_session_user", default=None)


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        return UserSession

    def _get_session_from_db(self):
        self.user_row = None
        try:
            row = (self.model.objects.select_related("user")
                   .get(session_key=self.session_key, expire_date__gt=timezone.now()))
        except (self.model.DoesNotExist, SuspiciousOperation) as e:
            if isinstance(e, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{e.__class__.__name__}")
                logger.warning(str(e))
            self._session_key = None
            return None
        self.user_row = row.user
        return row

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.user_id = _user_id(data.get(SESSION_KEY))
        return row


def _user_id(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def user_read_with_session(user_id):
    """The person with ``user_id`` when the current request's session statement read them,
    else ``None`` (the backend then reads them itself)."""
    user = _read_with_session.get()
    return user if user is not None and user.pk == _user_id(user_id) else None


@contextlib.contextmanager
def _offering(session) -> Iterator[None]:
    session.get(SESSION_KEY)  # loads the session (and its person) if nothing has yet
    token = _read_with_session.set(getattr(session, "user_row", None))
    try:
        yield
    finally:
        _read_with_session.reset(token)


def get_user(request):
    """``django.contrib.auth.get_user`` (the backend, the session's hash, the flush of a
    session that no longer verifies), with the person the session statement read offered to
    the backend."""
    if not hasattr(request, "_cached_user"):
        with _offering(request.session):
            request._cached_user = auth.get_user(request)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthentication):
    """Django's, with ``request.user`` loaded through ``get_user`` above."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
        request.auser = partial(auser, request)
