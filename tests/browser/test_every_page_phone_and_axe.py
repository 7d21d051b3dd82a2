"""Every page of the seeded demo, for every demo login, on a phone and under axe-core.

Each person signs in once (one browser context, kept across their pages) and visits what
they can reach: the links of the navigation and of its user menu, and from each of those
pages one of every other page of ours it links to (a request, an inbox item, a department,
a KPI, a plan, the handoffs, a form...), plus the approvals inbox in both views and, for the
administrator, the path editor of the Django admin. On every page:

- at 360 px nothing is wider than the viewport (``scrollWidth``): no sideways scrolling;
- at 390 px and at 1280 px axe-core (node_modules/axe-core, from package-lock.json) finds no
  serious or critical violation.

Run once in English and once in German (the browser asks for German; nobody chose a
language), since German words are longer and the pages must be labelled in both: every
person's every page, at every width, in both languages (a page shows each person other
buttons, counts and rows)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from approvals.models import ApprovalPath
from demo.logins import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
NARROW, PHONE, DESKTOP = 360, 390, 1280
HEIGHT = 800
# Enough of a history for every table to have rows and every chart bars, small enough to
# seed in seconds.
REQUESTS = 16
LOCALES = {"en": "en-GB", "de": "de-DE"}

# Links we do not follow: downloads, API and schema, sign-out, Django's admin beyond what is
# named below (its own pages), the third-party API docs.
SKIP = re.compile(r"^/(api/|admin/|accounts/logout|scim/|metrics|healthz|mail/)|"
                  r"\.(csv|xlsx|json|pdf)$|/(export|download|attachments?)/")

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.help} at ` +
               v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", requests=REQUESTS, no_logins=True, stdout=io.StringIO())


def _shape(path: str) -> str:
    """One page per kind: /portal/requests/SR-2026-000012/ and …/SR-2026-000013/ are one."""
    parts = [p for p in path.split("/") if p]
    shaped = []
    for i, part in enumerate(parts):
        if re.search(r"\d", part) or re.fullmatch(r"[A-Z][A-Z0-9_-]*", part) or (
                i and parts[i - 1] in {"new", "departments"}):
            part = "*"
        shaped.append(part)
    return "/" + "/".join(shaped)


def _links(page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or not href.startswith("/") or href.startswith("//"):
            continue
        path = urlsplit(href).path
        if not SKIP.search(path) and path not in found:
            found.append(path)
    return found


def _sign_in(browser, base: str, username: str, locale: str):
    context = browser.new_context(viewport={"width": DESKTOP, "height": HEIGHT}, locale=locale,
                                  timezone_id="Europe/Berlin")
    context.set_default_timeout(30_000)
    # Before any script of the page; an init script is not subject to the page's CSP.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def _check(page, base: str, url: str, problems: dict, *, who: str, axe: bool) -> bool:
    """Visit ``url`` at 360 px, then (``axe``) at 390 and 1280 px under axe; note what is
    wrong. False if it is not a page this person may see."""
    page.set_viewport_size({"width": NARROW, "height": HEIGHT})
    response = page.goto(base + url)
    if response is None or response.status != 200 or "text/html" not in response.headers.get(
            "content-type", ""):
        return False
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW:
        widest = page.evaluate("""() => [...document.querySelectorAll("main *, header *")]
          .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
          .slice(0, 3).map(e => e.tagName.toLowerCase() + "." + e.className).join(", ")""")
        problems[(who, url, NARROW)] = [f"{width} px wide ({widest})"]
    for viewport in (PHONE, DESKTOP) if axe else ():
        page.set_viewport_size({"width": viewport, "height": HEIGHT})
        if found := page.evaluate(AXE_RUN):
            problems[(who, url, viewport)] = found
    return True


def _pages_of(page, base: str, username: str) -> list[str]:
    """What this person reaches: the navigation, then one page of each kind linked from it."""
    page.goto(base + "/")
    start = _links(page, "#nav-panel a[href]") + ["/approvals/?view=cards",
                                                   "/approvals/?view=table"]
    if username == "admin":
        path = ApprovalPath.objects.order_by("pk").first()
        start += ["/admin/", f"/admin/approvals/approvalpath/{path.pk}/change/"]
    return start


def _visit_all(browser, base: str) -> tuple[dict, dict, dict]:
    """Every person's pages in English: (problems, pages visited per person, the first visit
    of each kind of page as (person, URL))."""
    problems: dict = {}
    visited: dict[str, list[str]] = {}
    first: dict[str, tuple[str, str]] = {}
    for username, _role in DEMO_LOGINS:
        page = _sign_in(browser, base, username, LOCALES["en"])
        assert page.evaluate("document.documentElement.lang") == "en"
        tried: set[str] = set()
        pages = _pages_of(page, base, username)
        for url in pages:
            parts = urlsplit(url)
            shape = _shape(parts.path) + (f"?{parts.query}" if parts.query else "")
            if shape in tried:
                continue
            tried.add(shape)
            if not _check(page, base, url, problems, who=username, axe=True):
                continue
            first.setdefault(shape, (username, url))
            visited.setdefault(username, []).append(url)
            if url.startswith("/admin/"):
                continue
            # One level down: one page of each kind this page links to.
            pages += [link for link in _links(page, "main a[href]")
                      if _shape(link) not in tried and link not in pages]
        page.context.close()
    return problems, visited, first


def _visit_again_in_german(browser, base: str, visited: dict) -> tuple[dict, int]:
    """Every person's pages again, with the browser asking for German: the widths at 360 px
    (German words are longer) and axe at 390 and 1280 px."""
    problems: dict = {}
    done = 0
    for username, _role in DEMO_LOGINS:
        urls = visited.get(username, [])
        if not urls:
            continue
        page = _sign_in(browser, base, username, LOCALES["de"])
        assert page.evaluate("document.documentElement.lang") == "de"
        for url in urls:
            assert _check(page, base, url, problems, who=username, axe=True), url
            done += 1
        page.context.close()
    return problems, done


def test_every_page_fits_a_phone_and_has_no_serious_accessibility_violation(
        demo, submit, browser, live_server):
    submit(cost="6000")  # alice's request on its first step: hank's inbox item
    # Her newest request, the one she opens: an answer without a place to break the line.
    submit(item="onboarding", cost="0", answers={
        "details": "Starts in the Munich office.", "starter_name": "Maximiliane Musterfrau",
        "start_date": "2027-01-04", "email": "maximiliane.musterfrau-lindqvist@example.org"})
    problems, visited, first = _visit_all(browser, live_server.url)
    problems_de, done_de = _visit_again_in_german(browser, live_server.url, visited)

    report = "\n".join(f"{who} {url} at {width} px in {language}:\n    " + "\n    ".join(found)
                       for (language, found_all) in (("en", problems), ("de", problems_de))
                       for (who, url, width), found in sorted(found_all.items()))
    assert not problems and not problems_de, f"page views with problems:\n{report}"
    # What the people reached, so the test cannot pass by visiting nothing.
    assert any(re.match(r"^/portal/requests/SR-", u) for u in visited["alice"]), visited["alice"]
    assert "/approvals/?view=cards" in visited["hank"]
    assert "/work/" in visited["ivan"]
    assert "/reports/" in visited["olivia"]
    assert any(u.startswith("/dashboard/departments/") for u in visited["irene"])
    assert any(re.match(r"^/admin/approvals/approvalpath/\d+/change/$", u)
               for u in visited["admin"])
    assert sorted(visited) == sorted(u for u, _ in DEMO_LOGINS)
    assert sum(len(urls) for urls in visited.values()) > 100, visited
    assert len(first) > 30, first
    assert done_de == sum(len(urls) for urls in visited.values())
