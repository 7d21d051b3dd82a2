"""Shared fixtures. ``org`` is the demo organisation (see demo/organisation.py): the same
people and paths a user meets in ``make run``, so tests read like the product."""

from __future__ import annotations

import functools
import os
import socket
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.backends.signals import connection_created
from django.utils import translation

from demo.organisation import seed_organisation
from governance.models import Department, User
from requests_app.models import CatalogItem


def _throwaway_databases_may_be_flushed(sender, connection, **kwargs) -> None:
    """Transactional tests empty every table between tests (Django's flush is a TRUNCATE);
    the audit trail refuses TRUNCATE unless the session allows it (governance 0012)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET srm.audit_truncate_allowed = 'on'")


connection_created.connect(_throwaway_databases_may_be_flushed,
                           dispatch_uid="tests.audit_truncate_allowed")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in LANGUAGE_CODE: a German request earlier in the thread leaves
    German active (LocaleMiddleware activates, nothing deactivates)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty counts (API throttles, sign-in lockouts, reset limits)."""
    cache.clear()
    yield


@pytest.fixture
def org(db):
    seed_organisation()
    users = {u.username: u for u in User.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    items = {i.code: i for i in CatalogItem.objects.select_related("fulfilling_department", "path")}
    return SimpleNamespace(**users, dept=departments, item=items)


@pytest.fixture
def submit(org):
    """Submit a request as someone, with sensible answers for the item."""
    from requests_app.services import request_submit

    def _submit(*, actor=None, item="laptop", cost="1200", answers=None, **kwargs):
        item_obj = org.item[item]
        if answers is None:
            answers = {"details": "For the new campaign team."}
            if item == "laptop":
                answers["model"] = "13-inch standard"
        return request_submit(
            actor=actor or org.alice, item=item_obj, answers=answers,
            estimated_cost=Decimal(cost) if cost is not None else None, **kwargs,
        )

    return _submit


# --- Services: PostgreSQL and Redis ---------------------------------------------------------
# A test that needs a server says so with ``@pytest.mark.postgres`` / ``@pytest.mark.redis``
# and nothing else. Where the server is missing the test is skipped on a developer's machine,
# but under CI=true it fails: CI runs every test, so a missing service must not pass silently.
CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@functools.cache
def redis_answers(url: str = REDIS_URL) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def missing_service(item: pytest.Item) -> str | None:
    """Why ``item`` cannot run here (a server its markers ask for is missing), or None."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL (DATABASE_URL=postgres://…)"
    if item.get_closest_marker("redis") and not redis_answers():
        return f"needs Redis at {REDIS_URL}"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = missing_service(item)
    if reason is None:
        return
    if CI:
        pytest.fail(f"{reason}; CI=true runs every test, so a missing service is a failure",
                    pytrace=False)
    pytest.skip(reason)


# --- Browser tests: Playwright (sync API) driving Debian's Chromium against live_server -------
# One Chromium for the whole run, shared by every browser test. Screenshots of pages, at
# desktop (1280×800) and phone (390×844) width, go to test-artifacts/screenshots/ (the
# README's pictures come from the demo instead: scripts/screenshots.py).
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM is still safe to
    # use from it (the loop is Playwright's), so tell Django so for the rest of the run.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browsers` (the test set-up installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ])
        yield browser
        browser.close()


@pytest.fixture
def sign_in(browser, live_server):
    """``sign_in("alice")`` → a Playwright page of a fresh browser context, signed in."""
    contexts = []

    def _sign_in(username: str, password: str = "demo"):
        context = browser.new_context(viewport=DESKTOP, locale="en-GB",
                                      timezone_id="Europe/Berlin")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # The first request of a run loads the URL configuration, every view and template:
        # on a busy machine that alone can take longer than the default.
        page.goto(f"{live_server.url}/accounts/login/", timeout=60_000)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    yield _sign_in
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """Save the current page at desktop and at phone width (full page), then restore."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str) -> None:
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    return _shot


class _Mailbox:
    """What the test SMTP server received, as parsed messages (``email.message``)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import email
        from email import policy

        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.envelope_to]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a loopback port of its own, and SRM set to send to
    it through Django's SMTP backend: ``smtp_server.to("hank@example.com")`` lists what it
    received. Stopped after the test."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield mailbox
    finally:
        controller.stop()
