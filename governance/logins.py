"""Failed sign-ins and password-reset mails, counted in the cache every web worker shares
(``CACHE_URL``: Redis in production and in docker-compose; the embedded default's local
memory only serves its single process).

Failures are counted per account (the name typed, case-insensitively, whether or not an
account has it) and per client address, each with its own limit. At the limit the account or
address is locked for ``SRM_LOGIN_LOCKOUT_SECONDS``; every further failure doubles the wait,
up to ``SRM_LOGIN_LOCKOUT_MAX_SECONDS``. The counts are forgotten ``SRM_LOGIN_FAILURE_MEMORY``
seconds after the last failure, and an account's on a successful sign-in. A sign-in during a
lockout is refused even with the right password (and counts as a failure).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.cache import caches

from governance.choices import LockoutScope

PREFIX = "srm:signin"
RESET_PREFIX = "srm:reset"


def _cache():
    return caches[settings.SRM_SECURITY_CACHE]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


@dataclass(frozen=True)
class Counter:
    scope: LockoutScope
    subject: str

    @property
    def limit(self) -> int:
        if self.scope == LockoutScope.ACCOUNT:
            return settings.SRM_LOGIN_ACCOUNT_FAILURES
        return settings.SRM_LOGIN_ADDRESS_FAILURES

    @property
    def key(self) -> str:
        return f"{PREFIX}:{self.scope}:{_digest(self.subject)}"


def counters(*, username: str | None, ip_address: str | None) -> list[Counter]:
    found = []
    if username:
        found.append(Counter(LockoutScope.ACCOUNT, username.strip().casefold()))
    if ip_address:
        found.append(Counter(LockoutScope.ADDRESS, ip_address))
    return found


def lock_seconds(failures: int, limit: int) -> int:
    """How long a lock lasts after ``failures`` failures (``limit`` or more)."""
    doublings = min(max(failures - limit, 0), 30)
    return min(settings.SRM_LOGIN_LOCKOUT_SECONDS * 2 ** doublings,
               settings.SRM_LOGIN_LOCKOUT_MAX_SECONDS)


@dataclass(frozen=True)
class Failure:
    counter: Counter
    failures: int
    until: float | None  # epoch seconds, when this failure locked
    started: bool  # this failure started the lock (rather than extending one in force)


def failure_record(counter: Counter) -> Failure:
    cache = _cache()
    memory = settings.SRM_LOGIN_FAILURE_MEMORY
    count_key = f"{counter.key}:n"
    if cache.add(count_key, 1, timeout=memory):
        failures = 1
    else:
        try:
            failures = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.add(count_key, 1, timeout=memory)
            failures = 1
        cache.touch(count_key, timeout=memory)
    if failures < counter.limit:
        return Failure(counter, failures, None, False)
    seconds = lock_seconds(failures, counter.limit)
    until = time.time() + seconds
    started = cache.add(f"{counter.key}:until", until, timeout=seconds)
    if not started:
        cache.set(f"{counter.key}:until", until, timeout=seconds)
    return Failure(counter, failures, until, started)


def locked_until(found: list[Counter]) -> float | None:
    """The latest time until which any of ``found`` is locked, or None."""
    now = time.time()
    values = _cache().get_many([f"{c.key}:until" for c in found]).values()
    latest = max((v for v in values if v and v > now), default=None)
    return latest


def failures_of(found: list[Counter]) -> int:
    values = _cache().get_many([f"{c.key}:n" for c in found]).values()
    return max(values, default=0)


def counts_clear(*, scope: LockoutScope, username: str = "", ip_address: str | None = None
                 ) -> None:
    """Forget the failures (and lift the lock) of an account or an address."""
    if scope == LockoutScope.ACCOUNT:
        found = counters(username=username, ip_address=None)
    else:
        found = counters(username=None, ip_address=ip_address)
    _cache().delete_many([key for c in found for key in (f"{c.key}:n", f"{c.key}:until")])


def signed_in(*, username: str) -> None:
    """A successful sign-in forgets the account's failures (the address's stay counted)."""
    counts_clear(scope=LockoutScope.ACCOUNT, username=username)


# --- Password-reset mails -----------------------------------------------------------------------
def reset_mail_refused(*, email: str, ip_address: str) -> str | None:
    """Count one password-reset request; say which limit refuses it: ``"address"`` (more than
    ``SRM_PASSWORD_RESET_PER_IP`` from this client address in the window), ``"email"`` (more than
    ``SRM_PASSWORD_RESET_PER_EMAIL`` for this e-mail address) or None (send)."""
    cache = _cache()
    window = settings.SRM_PASSWORD_RESET_WINDOW
    counts = {}
    for name, subject in (("address", ip_address), ("email", email.strip().casefold())):
        key = f"{RESET_PREFIX}:{name}:{_digest(subject)}"
        if cache.add(key, 1, timeout=window):
            counts[name] = 1
        else:
            try:
                counts[name] = cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout=window)
                counts[name] = 1
    if counts["address"] > settings.SRM_PASSWORD_RESET_PER_IP:
        return "address"
    if counts["email"] > settings.SRM_PASSWORD_RESET_PER_EMAIL:
        return "email"
    return None


@checks.register(checks.Tags.security, deploy=True)
def check_shared_cache(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A deployment on PostgreSQL runs several web workers: counts kept in one worker's memory
    would let an attacker spread guesses over the workers."""
    from_settings = settings.CACHES[settings.SRM_SECURITY_CACHE]["BACKEND"]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") or "redis" in from_settings.lower():
        return []
    return [checks.Warning(
        "Sign-in lockouts and API throttles are counted in one process's memory.",
        hint="Set CACHE_URL=redis://… so every web worker shares the counts.",
        id="srm.W001")]
