"""A German session end to end in Chromium: alice switches to Deutsch in her user menu and
submits a laptop typed as 6.500,00 €; hank (German on his profile) sees 6.500,00 € on his
inbox and on the request page, and the e-mail he gets is German. At 1280 and 390 px the
German pages are no wider than the window."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accountability.services.notifications import notifications_deliver
from requests_app.models import ServiceRequest
from tests.conftest import PHONE

pytestmark = pytest.mark.browser

GERMAN_MONEY = re.compile(r"6\.500,00\s€")  # \s: the no-break space between them


def _fits(page) -> None:
    """Nothing on the page is wider than the window (no sideways scrolling), once the charts
    have followed a change of the window's size."""
    for _ in range(15):
        if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
            break
        page.wait_for_timeout(200)
    width = page.evaluate("document.documentElement.scrollWidth")
    window = page.evaluate("window.innerWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)
                       + ' ' + (e.textContent || '').trim().slice(0, 40))""")
    assert width <= window, f"{page.url} is {width}px wide at {window}px: {wide}"


def test_alice_submits_in_german_and_hank_reads_it_in_german(org, sign_in, live_server,
                                                              smtp_server, settings, shot):
    settings.SRM_BASE_URL = live_server.url
    org.hank.language = "de"
    org.hank.save(update_fields=["language"])

    # alice's browser asks for English; she chooses Deutsch in her user menu
    alice = sign_in("alice")
    expect(alice.locator("html")).to_have_attribute("lang", "en")
    alice.locator("details.dropdown summary").click()
    alice.get_by_role("button", name="Deutsch").click()
    expect(alice.locator("html")).to_have_attribute("lang", "de")
    expect(alice.locator("button", has_text="Abmelden")).to_have_count(1)  # in the closed menu
    org.alice.refresh_from_db()
    assert org.alice.language == "de"

    # and submits a laptop with the cost written the German way, currency and all
    alice.get_by_role("link", name="New laptop").click()
    expect(alice.get_by_role("button", name="Anfrage einreichen")).to_be_visible()
    alice.locator("[name=details]").fill("Der Akku meines Laptops hält nicht mehr.")
    alice.locator("[name=model]").select_option("15-inch performance")
    alice.locator("[name=title]").fill("Ersatzlaptop für Alice")
    alice.locator("[name=estimated_cost]").fill("6.500,00 €")
    alice.get_by_role("button", name="Anfrage einreichen").click()
    expect(alice.locator(".flash-success")).to_contain_text("Hank Hughes")
    reference = alice.locator(".request-head .mono").inner_text().strip()
    assert ServiceRequest.objects.get(reference=reference).estimated_cost == 6500
    expect(alice.locator("main")).to_contain_text(GERMAN_MONEY)
    shot(alice, "de-request-submitted")
    alice.set_viewport_size(PHONE)
    _fits(alice)

    # hank: his inbox and the request page in German, the amount as German writes it
    hank = sign_in("hank")
    expect(hank.locator("html")).to_have_attribute("lang", "de")
    row = hank.locator("#main").locator("article, tr", has_text=reference).first
    expect(row).to_contain_text(GERMAN_MONEY)
    expect(hank.get_by_role("link", name="Zum Inhalt springen")).to_be_attached()
    shot(hank, "de-inbox")
    hank.set_viewport_size(PHONE)
    _fits(hank)
    hank.goto(f"{live_server.url}/portal/requests/{reference}/")
    expect(hank.locator("main")).to_contain_text(GERMAN_MONEY)
    expect(hank.locator("main")).not_to_contain_text("6,500.00")
    _fits(hank)
    shot(hank, "de-request-page")

    # the e-mail hank gets is German
    notifications_deliver()
    mails = [m for m in smtp_server.to("hank@example.com") if reference in m["Subject"]]
    assert mails, [m["Subject"] for m in smtp_server.to("hank@example.com")]
    mail = mails[0]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "wartet auf Ihre Entscheidung" in mail["Subject"]
    assert re.search(r"Geschätzte Kosten: 6\.500,00\s€", text), text
    assert "waits for your decision" not in text and "Estimated cost" not in text
    assert '<html lang="de">' in html


ROOT_PAGES = ["/dashboard/", "/dashboard/departments/MKT/", "/dashboard/handoffs/", "/reports/",
              "/reports/budgets/", "/kpis/", "/help/", "/notifications/",
              "/notifications/preferences/", "/governance/plans/"]


def test_the_german_pages_fit_a_phone_and_a_desktop(org, sign_in, live_server, shot):
    """Longer German words: every page of the board, reports, KPIs, help, notifications and
    change plans in German, at 1280 and at 390 px, is no wider than the window."""
    org.olivia.language = "de"
    org.olivia.save(update_fields=["language"])
    olivia = sign_in("olivia")
    for path in ROOT_PAGES:
        olivia.set_viewport_size({"width": 1280, "height": 800})
        response = olivia.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        expect(olivia.locator("html")).to_have_attribute("lang", "de")
        _fits(olivia)
        olivia.set_viewport_size(PHONE)
        _fits(olivia)
    shot(olivia, "de-plans")
