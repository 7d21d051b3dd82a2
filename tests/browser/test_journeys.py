"""What the three everyday audiences do, in a real browser: submit, approve, deliver, follow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _row(page, reference: str):
    return page.locator("article.step-card", has_text=reference)


def test_laptop_over_the_finance_threshold_goes_from_alice_to_fulfilled(org, sign_in, shot,
                                                                      live_server):
    # Given alice needs a laptop that costs more than the finance threshold
    alice = sign_in("alice")
    expect(alice).to_have_url(re.compile(r"/portal/$"))
    expect(alice.get_by_role("heading", name="IT", exact=True)).to_be_visible()
    shot(alice, "catalog")
    alice.get_by_role("link", name="New laptop").click()
    alice.get_by_label("What do you need?").fill("My laptop's battery no longer holds a charge.")
    alice.get_by_label("Model").select_option("15-inch performance")
    alice.get_by_label("Short title").fill("Replacement laptop for Alice")
    alice.get_by_label("Estimated cost (EUR)").fill("6000")
    shot(alice, "submit")
    # When she submits it
    alice.get_by_role("button", name="Submit request").click()
    # Then she lands on the request's page and sees who decides next
    expect(alice.locator(".flash-success")).to_contain_text("Hank Hughes")
    reference = alice.locator(".request-head .mono").inner_text().strip()
    assert re.fullmatch(r"SR-\d{4}-\d{6}", reference)
    expect(alice.locator(".timeline")).to_contain_text("Waiting for Hank Hughes")
    shot(alice, "request-submitted")

    # hank approves from his inbox with one click and a comment, without leaving the list
    hank = sign_in("hank")
    expect(hank).to_have_url(re.compile(r"/approvals/$"))
    expect(hank.locator("#nav-approvals-inbox .badge")).to_have_text("1")
    row = _row(hank, reference)
    expect(row).to_contain_text("€6,000.00")
    shot(hank, "inbox")
    row.get_by_label("Comment").fill("Within the team's plan")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Approved by you")
    expect(row).to_contain_text("Next: Finance approval with Fiona Fischer")
    expect(hank).to_have_url(re.compile(r"/approvals/$"))
    expect(hank.locator("#nav-approvals-inbox .badge")).to_have_count(0)
    shot(hank, "inbox-approved")

    # fiona approves the finance step
    fiona = sign_in("fiona")
    row = _row(fiona, reference)
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Approved by you")

    # ivan takes the IT step and completes it with a note
    ivan = sign_in("ivan")
    expect(ivan).to_have_url(re.compile(r"/work/$"))
    row = _row(ivan, reference)
    shot(ivan, "work-queue")
    row.get_by_role("button", name="Take it").click()
    expect(row).to_contain_text("Ivan Ivanov")
    row.get_by_label("Note for the requester").fill("Delivered to desk 4")
    row.get_by_role("button", name="Mark done").click()
    expect(row).to_contain_text("Done by you")
    expect(row).to_contain_text("The request is fulfilled")

    # alice sees it fulfilled, with every step, actor and comment on the timeline
    alice.goto(f"{live_server.url}/portal/requests/{reference}/")
    expect(alice.locator(".request-head")).to_contain_text("Fulfilled")
    timeline = alice.locator(".timeline")
    expect(timeline).to_contain_text("Approved by Hank Hughes")
    expect(timeline).to_contain_text("Within the team's plan")
    expect(timeline).to_contain_text("Approved by Fiona Fischer")
    expect(timeline).to_contain_text("Done by Ivan Ivanov")
    expect(timeline).to_contain_text("Delivered to desk 4")
    alice.get_by_text("Audit trail").click()
    expect(alice.locator(".audit")).to_contain_text("Taken on")
    shot(alice, "request-fulfilled")
    alice.get_by_role("link", name="My requests").click()
    expect(alice.locator("table")).to_contain_text(reference)
    shot(alice, "my-requests")


def test_a_rejection_needs_a_reason_and_alice_reads_it(org, submit, sign_in, shot, live_server):
    request = submit(cost="900")
    hank = sign_in("hank")
    row = _row(hank, request.reference)
    row.get_by_text("Reject…").click()
    reason = row.get_by_label("Why do you reject it?")
    # An empty reason is refused before anything is sent
    row.get_by_role("button", name="Reject request").click()
    assert reason.evaluate("el => !el.checkValidity()")
    expect(row).not_to_contain_text("Rejected by you")
    reason.fill("Use the spare laptop from the pool this quarter.")
    shot(hank, "inbox-reject")
    row.get_by_role("button", name="Reject request").click()
    expect(row).to_contain_text("Rejected by you")

    alice = sign_in("alice")
    alice.goto(f"{live_server.url}/portal/requests/{request.reference}/")
    expect(alice.locator(".request-head")).to_contain_text("Rejected")
    expect(alice.locator(".timeline")).to_contain_text("Rejected by Hank Hughes")
    expect(alice.locator(".timeline")).to_contain_text("Use the spare laptop from the pool")
    shot(alice, "request-rejected")


def test_a_validation_error_keeps_what_was_typed(org, sign_in, shot):
    alice = sign_in("alice")
    alice.get_by_role("link", name="New laptop").click()
    alice.get_by_label("Short title").fill("Laptop for the trade fair")
    alice.get_by_label("Estimated cost (EUR)").fill("about two thousand")
    alice.get_by_role("button", name="Submit request").click()

    expect(alice.locator(".flash-error")).to_contain_text("Some answers need attention")
    expect(alice.get_by_label("Short title")).to_have_value("Laptop for the trade fair")
    expect(alice.get_by_label("Estimated cost (EUR)")).to_have_value("about two thousand")
    expect(alice.locator(".field-error").first).to_be_visible()
    expect(alice.get_by_text("“about two thousand” is not an amount")).to_be_visible()
    shot(alice, "submit-errors")


def test_someone_elses_request_is_a_friendly_not_found(org, submit, sign_in, shot, live_server):
    request = submit()
    bob = sign_in("bob")
    response = bob.goto(f"{live_server.url}/portal/requests/{request.reference}/")
    assert response.status == 404
    expect(bob.get_by_role("heading", name="Nothing here")).to_be_visible()
    expect(bob.locator("body")).not_to_contain_text(request.title)
    shot(bob, "not-found")


def test_keyboard_alone_approves_from_the_inbox(org, submit, sign_in):
    request = submit()
    hank = sign_in("hank")
    row = _row(hank, request.reference)
    row.get_by_label("Comment").focus()
    hank.keyboard.type("Fine")
    hank.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Approve")).to_be_focused()
    hank.keyboard.press("Enter")
    expect(row).to_contain_text("Approved by you")
