"""The navigation on a phone: below 768 px the links fold behind a Menu button that a mouse,
a finger and a keyboard open and close; wider, where they fit on one row, they are all in
view, no button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

NARROW = {"width": 360, "height": 740}


def test_the_menu_button_opens_and_closes_the_links_on_a_phone(org, sign_in, live_server):
    hank = sign_in("hank")
    hank.set_viewport_size(NARROW)
    hank.goto(f"{live_server.url}/approvals/")
    menu = hank.get_by_role("button", name="Menu")
    approvals = hank.locator("#nav-approvals-inbox")
    # Folded: one short row, the button says it controls the closed panel.
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "nav-panel")
    expect(approvals).to_be_hidden()
    assert hank.locator(".site-header").bounding_box()["height"] < 90
    assert hank.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(approvals).to_be_visible()
    expect(hank.get_by_role("searchbox", name="Search requests and the catalog")).to_be_visible()
    approvals.click()
    expect(hank).to_have_url(f"{live_server.url}/approvals/")
    # A new page starts folded again.
    expect(approvals).to_be_hidden()

    # The user menu is inside the panel and still opens.
    menu.click()
    hank.locator("nav details.dropdown summary").click()
    expect(hank.get_by_role("button", name="Sign out")).to_be_visible()
    hank.locator("nav details.dropdown summary").click()
    menu.click()
    expect(approvals).to_be_hidden()


def test_the_menu_works_from_the_keyboard(org, sign_in, live_server):
    alice = sign_in("alice")
    alice.set_viewport_size(PHONE)
    alice.goto(f"{live_server.url}/portal/")
    menu = alice.get_by_role("button", name="Menu")
    # Tab from the top: the skip link, the brand, then the button.
    alice.keyboard.press("Tab")
    alice.keyboard.press("Tab")
    alice.keyboard.press("Tab")
    expect(menu).to_be_focused()
    alice.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    # The next Tab goes into the panel: the search box, then the first link.
    alice.keyboard.press("Tab")
    expect(alice.locator("#nav-panel input[type=search]")).to_be_focused()
    alice.keyboard.press("Tab")
    expect(alice.locator("#nav-panel a").first).to_be_focused()
    # Escape folds the panel and hands the focus back to the button.
    alice.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(alice.locator("#nav-panel a").first).to_be_hidden()
    alice.keyboard.press("Space")
    expect(menu).to_have_attribute("aria-expanded", "true")


def test_where_the_links_fit_they_are_all_in_view_without_a_button(org, sign_in, live_server):
    # Where they do not fit on one row they fold (tests/browser/test_navigation_one_row.py).
    for username, viewport in (("olivia", {"width": 1600, "height": 900}), ("alice", DESKTOP)):
        person = sign_in(username)
        person.set_viewport_size(viewport)
        person.goto(f"{live_server.url}/portal/")
        expect(person.get_by_role("button", name="Menu")).to_be_hidden()
        for link in person.locator("#nav-links > li > a").all():
            expect(link).to_be_visible()
        assert person.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_without_javascript_the_links_are_shown_and_the_button_is_not(org, browser, live_server):
    context = browser.new_context(viewport=NARROW, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("hank")
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/approvals/")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.locator("#nav-approvals-inbox")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    finally:
        context.close()
