"""In Chromium: fiona sees the budget line on her inbox card, approves a request over budget
with a reason, and olivia sees it on the CFO's budget report."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accountability.services.budgets import budget_set, current_quarter
from approvals.choices import StepState
from approvals.services import step_approve
from governance.models import AuditEvent
from governance.periods import quarter_label

pytestmark = pytest.mark.browser


def _active(request):
    return request.steps.get(state=StepState.ACTIVE)


def test_fiona_approves_over_budget_with_a_reason_and_olivia_sees_it(org, submit, sign_in,
                                                                   live_server):
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="60000")
    earlier = submit(cost="42000")
    step_approve(actor=org.hank, step=_active(earlier))
    step_approve(actor=org.fiona, step=_active(earlier))
    request = submit(cost="20000", title="Trade fair stand")
    step_approve(actor=org.hank, step=_active(request))
    step = _active(request)
    label = quarter_label(current_quarter())

    fiona = sign_in("fiona")
    fiona.goto(f"{live_server.url}/approvals/?view=cards")
    card = fiona.locator(f"#step-{step.pk}")
    expect(card).to_contain_text(f"Marketing {label}: 42,000 of 60,000 EUR committed; "
                                 "after this request 62,000 (103 %)")
    # Approving without the confirmation says what is left and changes nothing.
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("has €18,000.00 left")
    card = fiona.locator(f"#step-{step.pk}")
    card.get_by_label("I approve it over budget").check()
    card.get_by_label("Why it is approved over budget").fill("Trade fair moved to March")
    card.get_by_role("button", name="Approve").click()
    expect(fiona.locator(f"#step-{step.pk}")).to_contain_text("Approved by you")
    assert AuditEvent.objects.get(verb="request.over_budget").data["reason"] == \
        "Trade fair moved to March"

    olivia = sign_in("olivia")
    olivia.get_by_role("link", name="Budgets").first.click()
    expect(olivia).to_have_url(re.compile(r"/reports/budgets/$"))
    row = olivia.locator(f'table[data-quarter="{label}"] tr', has_text="CC-1700")
    # Amounts as the page writes them in the reader's language (English: 60,000.00).
    expect(row.locator('td[data-label="Budget"]')).to_have_text("60,000.00")
    expect(row.locator('td[data-label="Remaining"]')).to_have_text(
        "-2,000.00")  # 60,000 − 42,000 − 20,000
    expect(row.locator('td[data-label="Over-budget approvals"]')).to_have_text("1")
    expect(olivia.locator("#overruns")).to_contain_text("Marketing")
    expect(olivia.locator('canvas[data-chart="budget-data"]')).to_have_attribute(
        "data-rendered", "true")
