"""The lockout and the API throttles hold across web processes: two gunicorn servers on one
Redis (``CACHE_URL``), each guess sent to the other one. Before, each worker counted in its own
memory, so guesses spread over the workers were never stopped."""

from __future__ import annotations

import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from io import StringIO

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command

from demo.organisation import DEMO_PASSWORD
from governance.choices import LockoutScope
from governance.models import LoginLockout, User
from tests.chaos.stack import free_port, redis_server_fixture, stack_fixture, wait_for

redis_server = pytest.fixture(redis_server_fixture, name="redis_server")
stack = pytest.fixture(stack_fixture, name="stack")
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Browser:
    """One person's cookies against one server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect())

    def open(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def sign_in(self, username: str, password: str) -> tuple[int, str]:
        _status, page = self.open("/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.open("/accounts/login/", {"csrfmiddlewaretoken": csrf, "username": username,
                                              "password": password})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _api(base: str, token: str) -> int:
    request = urllib.request.Request(base + "/api/v1/me/",
                                     headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _live(base: str) -> bool:
    try:
        return Browser(base).open("/healthz/live")[0] == 200
    except OSError:
        return False


def _second_web(stack, **env):
    port = free_port()
    stack._spawn("web2", [
        sys.executable, "-m", "gunicorn", "srm.wsgi:application", "-c", "gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"], **env)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _live(base), timeout=60, what="web2")
    return base


def test_thirty_guesses_spread_over_two_servers_lock_the_account_for_both(org, stack,
                                                                          redis_server):
    # Given alice's and bob's passwords hashed as production hashes them (the tests' own
    # settings use a fast hasher the servers do not know)
    User.objects.filter(username__in=["alice", "bob"]).update(
        password=PBKDF2PasswordHasher().encode(DEMO_PASSWORD, "saltsaltsalt"))
    # ...and two web servers (separate processes) sharing the Redis cache
    # (production settings; static files referenced unhashed, so no collectstatic first)
    shared = {"DJANGO_SETTINGS_MODULE": "bench.http_settings",
              "CACHE_URL": redis_server.url.replace("/0", "/1"),
              "SRM_API_THROTTLE_USER": "5/minute",
              # every client of the test comes from 127.0.0.1: the account's limit is tested
              "SRM_LOGIN_ADDRESS_FAILURES": "100"}
    stack.env.update(shared)
    stack.start_web(workers=1, threads=2)
    servers = [Browser(stack.base), Browser(_second_web(stack))]

    # When someone guesses alice's password 30 times, each guess on the other server
    answers = [servers[n % 2].sign_in("alice", f"guess-{n}")[0] for n in range(30)]

    # Then the lockout began at the limit, whichever server counted the failures
    assert answers[:4] == [200] * 4 and set(answers[4:]) == {429}, answers
    assert LoginLockout.objects.filter(scope=LockoutScope.ACCOUNT).count() == 1

    # ...and the right password is refused on both, with the reason
    for server in servers:
        status, page = server.sign_in("alice", DEMO_PASSWORD)
        assert status == 429
        assert "Too many failed sign-ins" in page
    # ...while bob still signs in
    assert Browser(stack.base).sign_in("bob", DEMO_PASSWORD)[0] == 302

    # And the API's throttle is shared too: 5 calls a minute over both servers
    out = StringIO()
    call_command("create_api_token", "bob", stdout=out)
    token = out.getvalue().split()[-1]
    calls = [_api(server.base, token) for server in servers * 3]
    assert calls == [200] * 5 + [429], calls
