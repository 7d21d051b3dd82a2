"""`make run` with the OIDC_* variables set signs people in through the company's provider:
the product started as a person starts it (a fresh clone, `make run` at a terminal, as
tests/test_make_run.py does), configured only by the environment, pointed at the test
OpenID provider (tests/identity/oidc_provider.mjs), and alice signing in there in Chromium.

This is the whole path the settings module, gunicorn and the sign-in page take from the
variables — what the live-server tests configure with ``override_settings`` instead."""

from __future__ import annotations

import os
import re
import socket

import pytest
from playwright.sync_api import expect

from tests.identity.conftest import CLIENT_ID, CLIENT_SECRET, PROVIDER_NAME
from tests.test_make_run import READY_TIMEOUT, URL_LINE, Terminal, _clone, _free_port, _get

WAIT = 30_000  # ms

pytestmark = [pytest.mark.browser]


def test_make_run_with_the_oidc_variables_signs_in_through_the_provider(
        tmp_path, oidc_provider, browser):
    # Given make run started with the provider's variables, and nothing else configured
    clone = _clone(tmp_path)
    port = _free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "SRM_VAR_DIR", "DEBUG",
                          "DJANGO_SETTINGS_MODULE", "CACHE_URL", "MAKEFLAGS", "MAKELEVEL"}
           and not key.startswith(("OIDC_", "LDAP_"))}
    env.update(PORT=str(port), DEMO_REQUESTS="10", TERM="dumb",
               OIDC_ISSUER=oidc_provider.issuer, OIDC_CLIENT_ID=CLIENT_ID,
               OIDC_CLIENT_SECRET=CLIENT_SECRET, OIDC_PROVIDER_NAME=PROVIDER_NAME,
               OIDC_CLAIM_GROUPS="groups", OIDC_GROUP_AGENT="srm-agents")
    terminal = Terminal(clone, env, ["make", "run", f"BASE_STAMP={clone}/var/venv-ready"])
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    context.set_default_timeout(WAIT)
    # The provider's development pages import a web font: nothing leaves the machine.
    context.route(re.compile(r"^https://fonts\."), lambda route: route.abort())
    try:
        url = terminal.wait_for(URL_LINE, READY_TIMEOUT).group(1).rstrip("/")
        status, login = _get(f"{url}/accounts/login/")
        assert status == 200 and f"Sign in with {PROVIDER_NAME}" in login

        # When alice asks for her requests, chooses the provider, signs in there, consents
        page = context.new_page()
        page.goto(f"{url}/portal/requests/")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(oidc_provider.issuer)}/"))
        page.get_by_placeholder("Enter any login").fill("alice")
        page.get_by_placeholder("and password").fill("any password")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()

        # Then she is back in SRM on the page she asked for, signed in as herself
        expect(page).to_have_url(re.compile(rf"^{re.escape(url)}/portal/requests/"))
        expect(page.locator("details.dropdown summary")).to_contain_text("Alice")
        expect(page.get_by_role("heading", level=1)).to_be_visible()

        # When she signs out, the provider's session ends too and she is back at SRM's sign-in
        page.locator("details.dropdown summary").click()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Yes, sign me out").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(url)}/accounts/login/"))
        page.goto(f"{url}/portal/requests/")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))

        terminal.settle(1)
        terminal.ctrl_c()
        assert terminal.finish(30) == 0, terminal.output[-2000:]
    finally:
        context.close()
        terminal.kill()
    assert "Traceback" not in terminal.output, terminal.output[-3000:]
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing listens on the port any more"
