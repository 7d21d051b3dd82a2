"""A head delegates while away, in Chromium at desktop and at phone width: the date inputs show
the dates the server filled in and keep them after an error, the delegate is found by a
search over the people one may choose, and the delegation is created."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.models import Delegation
from tests.browser.test_csp import COLLECT
from tests.conftest import PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_hank_delegates_to_bob_in_the_browser(org, sign_in, live_server, shot, width):
    today = timezone.localdate()
    hank = sign_in("hank")
    hank.context.add_init_script(COLLECT)
    if width == "phone":
        hank.set_viewport_size(PHONE)
        hank.goto(f"{live_server.url}/approvals/")
        hank.get_by_role("button", name="Away? Delegate").click()
    else:
        hank.locator("nav details.dropdown summary").click()
        hank.get_by_role("link", name="Delegations").click()
    expect(hank.get_by_role("heading", name="Delegate your approvals")).to_be_visible()

    # The first day is filled in by the server and the browser shows it (ISO in the input).
    expect(hank.get_by_label("First day")).to_have_value(today.isoformat())
    # Nobody is listed until searched; the search finds colleagues only.
    expect(hank.locator("input[name=delegate]")).to_have_count(0)
    hank.get_by_label("Find who decides for you").fill("bo")
    bob = hank.get_by_role("radio", name="Bob Brown")
    expect(bob).to_be_visible()
    hank.get_by_label("Find who decides for you").fill("ivan")
    expect(hank.locator("#delegate-results")).to_contain_text("No one you may delegate to")
    hank.get_by_label("Find who decides for you").fill("bob")
    hank.get_by_role("radio", name="Bob Brown").check()

    # A last day before the first: refused, and both dates are still there to correct.
    first, last = today + timedelta(days=2), today + timedelta(days=1)
    hank.get_by_label("First day").fill(first.isoformat())
    hank.get_by_label("Last day").fill(last.isoformat())
    hank.get_by_role("button", name="Delegate", exact=True).click()
    expect(hank.locator(".field-error").first).to_contain_text("on or after the first day")
    expect(hank.get_by_label("First day")).to_have_value(first.isoformat())
    expect(hank.get_by_label("Last day")).to_have_value(last.isoformat())
    expect(hank.get_by_role("radio", name="Bob Brown")).to_be_checked()

    hank.get_by_label("Last day").fill((today + timedelta(days=9)).isoformat())
    hank.get_by_label("Reason (optional)").fill("Holiday")
    hank.get_by_role("button", name="Delegate", exact=True).click()
    expect(hank.locator(".flash-success")).to_contain_text("Bob Brown decides for you")
    expect(hank.locator("table")).to_contain_text("Bob Brown")
    shot(hank, f"delegation-{width}")
    delegation = Delegation.objects.get()
    assert (delegation.delegate, delegation.starts_on) == (org.bob, first)
    assert hank.evaluate("window.__csp") == []


def test_an_employee_is_not_offered_delegation(org, sign_in):
    alice = sign_in("alice")
    alice.locator("nav details.dropdown summary").click()
    expect(alice.get_by_role("link", name="Sign out").or_(
        alice.get_by_role("button", name="Sign out"))).to_be_visible()
    expect(alice.get_by_role("link", name="Delegations")).to_have_count(0)
