"""In Chromium at desktop (1280 px) and phone (390 px) width: a requester hears of each step
in the app and by e-mail; a question waiting for the requester is the first thing they see;
a head clears 40 approvals from the compact table, in bulk or by keyboard; Back after an
in-place decision stays in the app."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accountability.services.notifications import notifications_deliver
from approvals.choices import StepState
from approvals.models import Step
from approvals.services import step_approve, step_hold

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _active(request) -> Step:
    return request.steps.get(state=StepState.ACTIVE)


def _fill(org, submit, n: int) -> list:
    return [submit(actor=org.alice if i % 2 else org.bob, cost=str(100 * (i + 1)),
                   title=f"Item {i:03d}") for i in range(n)]


def _height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_the_requester_hears_each_step_in_the_app_and_by_e_mail(org, submit, sign_in):
    request = submit(cost="1200")
    head = _active(request)
    hank = sign_in("hank")
    hank.locator(f"#step-{head.pk}").get_by_role("button", name="Approve").click()
    expect(hank.locator(f"#step-{head.pk}")).to_contain_text("Approved by you")

    alice = sign_in("alice")
    expect(alice.locator("#nav-notifications-list .badge")).to_have_text("2")
    alice.get_by_role("link", name=re.compile("Notifications")).click()
    notices = alice.locator("article.notification")
    expect(notices.first).to_contain_text(f"{request.reference}: Head approval approved (1 of 1)")
    expect(notices.nth(1)).to_contain_text(f"{request.reference} submitted: New laptop")
    # The reference in a notice is a link to the request.
    notices.first.get_by_role("link", name=re.compile(request.reference)).click()
    expect(alice).to_have_url(re.compile(rf"/portal/requests/{request.reference}/$"))

    notifications_deliver()
    to_alice = [m.subject for m in mail.outbox if m.to == ["Alice Adams <alice@example.com>"]]
    assert to_alice == [f"[SRM] {request.reference} submitted: New laptop",
                        f"[SRM] {request.reference}: Head approval approved (1 of 1)"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_the_open_question_is_above_the_fold(org, submit, sign_in, viewport):
    request = submit(cost="1200", title="Laptop for the new designer")
    step_hold(actor=org.hank, step=_active(request), question="Which screen size do you need?")

    alice = sign_in("alice")
    alice.set_viewport_size(viewport)
    alice.goto(alice.url.split("/portal/")[0] + "/portal/requests/")
    expect(alice.locator("table")).to_contain_text("Waiting for you")
    alice.get_by_role("link", name=request.reference).click()
    expect(alice.locator(".request-head")).to_contain_text("Waiting for you")
    banner = alice.locator("#open-question")
    expect(banner).to_contain_text("Hank Hughes asked you a question")
    box = alice.get_by_label("Your answer").bounding_box()
    assert box["y"] + box["height"] <= viewport["height"], (
        f"answer field ends at {box['y'] + box['height']} px at {viewport['width']} px")

    alice.get_by_label("Your answer").fill("27 inch, for print layouts.")
    alice.get_by_role("button", name="Send answer").click()
    expect(alice.locator(".request-head")).to_contain_text("now with")
    expect(alice.locator("#open-question")).to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_forty_waiting_items_fit_a_compact_page(org, submit, sign_in, viewport):
    _fill(org, submit, 40)
    hank = sign_in("hank")
    hank.set_viewport_size(viewport)
    hank.reload()
    expect(hank.locator("#inbox-count")).to_have_text("40 waiting for your decision.")
    expect(hank.locator("tr.inbox-row")).to_have_count(40)
    expect(hank.locator("#nav-approvals-inbox .badge")).to_have_text("40")
    height = _height(hank)
    print(f"inbox with 40 items at {viewport['width']} px: {height} px")
    limit = 3200 if viewport == DESKTOP else 5000  # 19 cards were 6,877 px
    assert height <= limit


def test_a_head_bulk_approves_fifteen_with_one_comment(org, submit, sign_in):
    requests = _fill(org, submit, 40)
    hank = sign_in("hank")
    chosen = requests[:15]
    for request in chosen:
        hank.locator(f"#step-{_active(request).pk} input.select-step").check()
    # Meanwhile one of them is decided elsewhere (the request page, another tab).
    raced = chosen[3]
    step_approve(actor=org.hank, step=_active(raced))

    hank.get_by_label("Selected items: one comment").fill("Within the Q4 plan")
    hank.get_by_role("button", name="Approve selected").click()

    results = hank.locator("#bulk-results li")
    expect(results).to_have_count(15)
    expect(hank.locator("#bulk-results li.bulk-done")).to_have_count(14)
    expect(hank.locator("#bulk-results li", has_text=raced.reference)).to_contain_text(
        "already decided")
    expect(hank.locator("#inbox-count")).to_have_text("25 waiting for your decision.")
    expect(hank.locator("#nav-approvals-inbox .badge")).to_have_text("25")
    assert Step.objects.filter(state=StepState.APPROVED, comment="Within the Q4 plan").count() == 14


def test_keyboard_only_approve_and_reject_in_the_compact_view(org, submit, sign_in):
    requests = _fill(org, submit, 12)
    hank = sign_in("hank")
    first, second = (_active(r) for r in requests[:2])

    hank.keyboard.press("j")  # the first row
    hank.keyboard.press("a")
    expect(hank.locator(f"#step-{first.pk}")).to_contain_text("Approved by you")
    hank.keyboard.press("j")
    hank.keyboard.press("r")
    expect(hank.locator(f"#reject-comment-{second.pk}")).to_be_focused()
    hank.keyboard.type("Not in this quarter's plan.")
    hank.keyboard.press("Tab")
    hank.keyboard.press("Enter")
    expect(hank.locator(f"#step-{second.pk}")).to_contain_text("Rejected by you")
    expect(hank.locator("#inbox-count")).to_have_text("10 waiting for your decision.")
    second.refresh_from_db()
    assert (second.state, second.comment) == (StepState.REJECTED, "Not in this quarter's plan.")


def test_back_after_an_in_place_approval_stays_in_the_app(org, submit, sign_in):
    request = submit(cost="1200")
    hank = sign_in("hank")  # the sign-in page is the entry before the inbox
    hank.locator(f"#step-{_active(request).pk}").get_by_role("button", name="Approve").click()
    expect(hank.locator("article.step-card")).to_contain_text("Approved by you")
    hank.go_back()
    hank.wait_for_load_state()
    assert "/accounts/login/" not in hank.url
    expect(hank.get_by_role("heading", name="Approvals")).to_be_visible()
