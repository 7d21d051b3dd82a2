"""An ops leader starts a change plan in Chromium, names a legacy workflow, and the plan page
shows it; the date pickers keep the dates; no page breaks the Content-Security-Policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.models import ChangePlan
from tests.browser.test_csp import COLLECT

pytestmark = pytest.mark.browser


def test_olivia_starts_a_plan_and_names_the_workflow_it_retires(org, sign_in, live_server, shot):
    today = timezone.localdate()
    olivia = sign_in("olivia")
    olivia.context.add_init_script(COLLECT)
    olivia.goto(f"{live_server.url}/governance/plans/")
    olivia.get_by_role("button", name="New change plan").click()

    olivia.get_by_label("Name").fill("Phones only through SRM")
    olivia.get_by_label("New laptop").check()
    olivia.get_by_label("Go-live date").fill((today + timedelta(days=14)).isoformat())
    olivia.get_by_label("Value by").fill((today + timedelta(days=7)).isoformat())  # too early
    olivia.get_by_role("button", name="Create the plan").click()
    expect(olivia.get_by_text("On or after the go-live date.")).to_be_visible()
    # What was typed is still there, dates included.
    expect(olivia.get_by_label("Name")).to_have_value("Phones only through SRM")
    expect(olivia.get_by_label("Go-live date")).to_have_value(
        (today + timedelta(days=14)).isoformat())

    olivia.get_by_label("Value by").fill((today + timedelta(days=100)).isoformat())
    olivia.get_by_role("button", name="Create the plan").click()
    expect(olivia.get_by_role("heading", name="Add a legacy workflow")).to_be_visible()
    olivia.get_by_label("Name").fill("Phone orders by e-mail")
    olivia.get_by_label("Runs on").select_option("email")
    olivia.get_by_label("Owning department").select_option(label="IT")
    olivia.get_by_label("Retire by").fill((today + timedelta(days=30)).isoformat())
    olivia.get_by_role("button", name="Add", exact=True).click()

    expect(olivia.get_by_role("heading", name="Phones only through SRM")).to_be_visible()
    expect(olivia.locator("#workflows")).to_contain_text("Phone orders by e-mail")
    retire_by = today + timedelta(days=30)
    expect(olivia.get_by_role("status").or_(olivia.locator(".flash")).first).to_contain_text(
        f"retires it by {retire_by.day} {retire_by:%b %Y}")
    shot(olivia, "change-plan")
    plan = ChangePlan.objects.get(name="Phones only through SRM")
    assert plan.workflows.get().owning_department.code == "IT"
    assert olivia.evaluate("window.__csp || []") == []
