"""The navigation bar is one row at every width from 768 px, for everyone: whoever has more
links than fit beside the brand and the search (an ops leader, the administrator, a finance
head; in German above all) gets the Menu button instead, which opens them all, by mouse or
keyboard. Nobody's bar wraps onto a second row."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from demo.logins import DEMO_LOGINS

pytestmark = pytest.mark.browser

WIDTHS = (768, 900, 1024, 1100, 1280, 1600)
HEIGHT = 800

# The bar's rows: the vertical centres of its visible items (brand, Menu button, search,
# links, the user menu), and its height beside its tallest item's.
ROWS = """() => {
  const nav = document.querySelector(".site-header nav");
  const items = [...nav.querySelectorAll(":scope > ul > li, #nav-panel > ul > li")]
    .filter(li => li.offsetParent !== null);
  const centres = new Set(items.map(li => {
    const box = li.getBoundingClientRect();
    return Math.round((box.top + box.height / 2) / 4);
  }));
  return {rows: centres.size, height: nav.getBoundingClientRect().height,
          tallest: Math.max(...items.map(li => li.getBoundingClientRect().height)),
          wide: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_bar_is_one_row_and_every_link_is_reachable_at_every_width(
        org, sign_in, live_server, language):
    folded_somewhere = []
    for username, _role in DEMO_LOGINS:
        person = getattr(org, username)
        person.language = language
        person.save(update_fields=["language"])
        page = sign_in(username)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.goto(f"{live_server.url}/")
            where = f"{username} at {width} px in {language}"
            bar = page.evaluate(ROWS)
            assert bar["rows"] == 1, f"{where}: {bar}"
            assert bar["height"] <= bar["tallest"] + 2, f"{where}: {bar}"
            assert bar["wide"] <= width, f"{where}: {bar}"
            links = page.locator("#nav-links > li > a, #nav-links details.dropdown > summary")
            assert links.count() >= 2
            menu = page.locator(".nav-toggle")
            if menu.is_visible():
                folded_somewhere.append((username, width))
                for link in links.all():
                    expect(link).to_be_hidden()
                menu.click()
                expect(menu).to_have_attribute("aria-expanded", "true")
            for link in links.all():
                expect(link).to_be_visible()
                box = link.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, where
    # Folded only where the links do not fit: at 1280 px an employee's are in view, and
    # nobody's are folded at 1600 px.
    assert ("alice", 1280) not in folded_somewhere
    assert not [fold for fold in folded_somewhere if fold[1] == 1600], folded_somewhere
    print(f"folded in {language}:", folded_somewhere)


def test_a_folded_bar_opens_from_the_keyboard_and_resizing_unfolds_it(org, sign_in, live_server):
    org.olivia.language = "de"
    org.olivia.save(update_fields=["language"])
    olivia = sign_in("olivia")
    olivia.set_viewport_size({"width": 900, "height": HEIGHT})
    olivia.goto(f"{live_server.url}/dashboard/")
    menu = olivia.locator(".nav-toggle")
    expect(menu).to_be_visible()
    menu.focus()
    olivia.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    olivia.keyboard.press("Tab")
    expect(olivia.locator("#nav-panel input[type=search]")).to_be_focused()
    olivia.keyboard.press("Tab")
    expect(olivia.locator("#nav-panel a").first).to_be_focused()
    olivia.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    # Wider without a reload: the links come back into the bar, on one row.
    olivia.set_viewport_size({"width": 1600, "height": HEIGHT})
    expect(menu).to_be_hidden()
    expect(olivia.locator("#nav-links > li > a").first).to_be_visible()
    assert olivia.evaluate(ROWS)["rows"] == 1
