"""The organisation page in Chromium: an ops leader reads the tree and the conflicts, at
desktop and at phone width (nothing wider than the screen), with no CSP violation."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import expect

from governance.models import Department, Membership
from tests.browser.test_csp import COLLECT
from tests.conftest import PHONE

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _warm(live_server):
    """The live server's first answer can take longer than a page's timeout on a loaded
    machine (its first request loads the URLconf, templates and static files)."""
    urllib.request.urlopen(f"{live_server.url}/accounts/login/", timeout=60).read()


def test_alice_is_refused(org, sign_in, live_server):
    alice = sign_in("alice")
    response = alice.goto(f"{live_server.url}/governance/organisation/")
    assert response.status == 403


def test_olivia_reads_the_organisation_and_its_conflicts_on_a_phone(org, sign_in, live_server,
                                                                    shot):
    Department.objects.create(code="DATA", name="Data Office", parent=org.dept["OPS"])
    Membership.objects.create(user=org.alice, department=org.dept["LEG"])
    olivia = sign_in("olivia")
    olivia.context.add_init_script(COLLECT)
    olivia.goto(f"{live_server.url}/governance/organisation/")

    expect(olivia.get_by_role("heading", name="Organisation", exact=True)).to_be_visible()
    conflicts = olivia.locator("ul.conflicts")
    expect(conflicts).to_contain_text("Data Office (DATA) has no head")
    expect(conflicts).to_contain_text("Alice Adams is in several departments")
    marketing = olivia.locator("tr[data-code=MKT]")
    expect(marketing).to_contain_text("Hank Hughes (Local)")
    marketing.get_by_role("link").click()
    expect(olivia.get_by_role("heading", name="Members of Marketing")).to_be_visible()

    olivia.set_viewport_size(PHONE)
    expect(marketing).to_contain_text("Hank Hughes")
    assert olivia.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert olivia.evaluate("window.__csp || []") == []
    shot(olivia, "organisation")
