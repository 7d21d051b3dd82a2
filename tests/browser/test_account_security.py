"""The account pages of issue 16 in a browser: API tokens from the account menu, and the
sign-in page during a lockout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from governance.models import ApiToken

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_person_creates_copies_and_revokes_an_api_token(org, sign_in, live_server, shot):
    # Given alice, signed in, opening API tokens from her account menu
    page = sign_in("alice")
    page.locator("details.dropdown summary").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(re.compile(r"/accounts/tokens/$"))
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()

    # When she creates one for a nightly export
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_label("Valid for (days)").fill("30")
    page.get_by_role("button", name="Create token").click()

    # Then the secret is on the page once, with the warning, and the token is listed
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("srm_")
    expect(page.get_by_text("it is shown this once only")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Nightly export"))
    expect(row).to_contain_text(secret[:8])
    shot(page, "api-tokens")

    # ...and a reload does not show it again
    page.goto(f"{live_server.url}/accounts/tokens/")
    expect(page.locator("#token-secret")).to_have_count(0)
    assert secret not in page.content()

    # When she revokes it
    page.get_by_role("row", name=re.compile("Nightly export")).get_by_role(
        "button", name="Revoke").click()

    # Then the page says so and the token no longer works
    expect(page.get_by_text("“Nightly export” is revoked")).to_be_visible()
    assert ApiToken.objects.get().revoked_at is not None


def test_the_sign_in_page_says_why_a_locked_account_is_refused(org, browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    for n in range(6):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(f"guess-{n}")
        page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    context.close()
