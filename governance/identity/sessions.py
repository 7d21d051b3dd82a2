"""Sessions read with their person: one statement per request instead of two.

Django's database sessions read the session row, then the authentication backend reads the
person the session names (``SELECT … FROM governance_user WHERE id = …``): two round trips
on every signed-in request. Here the session row carries the person's id in a column
(``UserSession.user``), so loading the session joins the person's row in the same statement;
the backend then checks that row exactly as it checks one it read itself (active, local
passwords open to them, the session's password hash), so a leaver or a changed password
still ends the session on the next request. Nothing is cached across requests.

The statement is written once per process (``_lookup``) and read back with ``kit.reads``:
building the same join through the ORM cost more CPU than running it, on every signed-in
request.

    SESSION_ENGINE = "governance.identity.sessions"
    MIDDLEWARE = [… "governance.identity.sessions.AuthenticationMiddleware" …]
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar
from functools import partial

from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.auth.middleware import auser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection
from django.utils import timezone

from governance.models import User, UserSession
from kit.reads import instance_from, select_columns, width

# The person read with the current request's session, while its user is being loaded.
_read_with_session: ContextVar[object | None] = ContextVar("srm_session_user", default=None)


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        return UserSession

    def _get_session_from_db(self):
        """The unexpired session row with its person (``select_related("user")``), or
        ``None``."""
        self.user_row = None
        row = self._read_with_person()
        if row is None:
            self._session_key = None
            return None
        self.user_row = row.user
        return row

    def _read_with_person(self) -> UserSession | None:
        with connection.cursor() as cursor:
            cursor.execute(_lookup(connection.vendor), [self.session_key, timezone.now()])
            found = cursor.fetchone()
        if found is None:
            return None
        split = width(UserSession)
        row = instance_from(UserSession, found[:split])
        person = instance_from(User, found[split:]) if found[split] is not None else None
        UserSession.user.field.set_cached_value(row, person)
        return row

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.user_id = _user_id(data.get(SESSION_KEY))
        return row


@functools.cache
def _lookup(vendor: str) -> str:
    """The session row by its key, unexpired, with its person's row (``NULL`` columns while
    the session names no one), in the columns ``kit.reads`` reads back."""
    quote = connection.ops.quote_name
    session, person = UserSession._meta, User._meta
    return (f"SELECT {select_columns(UserSession, 's')}, {select_columns(User, 'p')} "
            f"FROM {quote(session.db_table)} s "
            f"LEFT OUTER JOIN {quote(person.db_table)} p "
            f"ON p.{quote(person.pk.column)} = s.{quote(UserSession.user.field.column)} "
            f"WHERE s.{quote(session.pk.column)} = %s AND s.{quote('expire_date')} > %s")


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
    """Django's, with ``request.user`` loaded through ``get_user`` above, and loaded at once
    rather than behind a lazy object: the next middleware (``kit.i18n.UserLanguageMiddleware``,
    the saved language) reads it on every request, so deferring it saves no statement, while
    each of the hundreds of reads of ``request.user`` a page makes would go through the lazy
    object's proxy."""

    def process_request(self, request):
        super().process_request(request)
        request.user = get_user(request)
        request.auser = partial(auser, request)
