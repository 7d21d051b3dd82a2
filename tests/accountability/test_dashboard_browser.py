"""In a real browser: the board and its chart render for the ops leader and for a head, and
the chart's numbers are also on the page as a table."""

from __future__ import annotations

import pytest

from approvals.services import step_approve
from demo.organisation import DEMO_PASSWORD, seed_organisation
from governance.models import User
from kpis.services import snapshots_compute
from tests.factories import active_step


@pytest.fixture
def seeded(transactional_db):
    from requests_app.models import CatalogItem
    from requests_app.services import request_submit

    seed_organisation()
    alice = User.objects.get(username="alice")
    hank = User.objects.get(username="hank")
    for _ in range(2):
        request = request_submit(actor=alice, item=CatalogItem.objects.get(code="laptop"),
                                 answers={"details": "x", "model": "13-inch standard"},
                                 estimated_cost="1200")
        step_approve(actor=hank, step=active_step(request))
    snapshots_compute(weeks_back=2)


def sign_in_page(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.parametrize("username, department", [("olivia", "IT"), ("hank", "Marketing")])
def test_the_board_and_its_chart_render(seeded, live_server, browser, username, department):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    sign_in_page(page, live_server, username)

    page.goto(f"{live_server.url}/dashboard/")

    page.wait_for_selector("canvas[data-chart][data-rendered=true]", timeout=10000)
    rows = page.locator("#bottlenecks ~ div table tbody tr")
    assert rows.count() >= 1
    assert department in page.locator("#bottlenecks ~ div table").inner_text()
    assert page.locator("nav a[href='/dashboard/']").count() == 1
    page.close()


@pytest.mark.browser
def test_the_kpi_trend_chart_renders_for_an_employee(seeded, live_server, browser):
    from kpis.models import KPISnapshot

    kpi_id = KPISnapshot.objects.values_list("kpi_id", flat=True).first()
    if kpi_id is None:
        pytest.fail("the seeded history should give at least one KPI snapshot")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in_page(page, live_server, "alice")

    page.goto(f"{live_server.url}/kpis/{kpi_id}/")

    page.wait_for_selector("canvas[data-chart][data-rendered=true]", timeout=10000)
    assert page.locator("#kpi-history ~ div table tbody tr").count() >= 1
    page.close()

