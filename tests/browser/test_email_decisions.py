"""Deciding from the e-mail, end to end: SRM sends through its SMTP backend to a test SMTP
server; hank follows the mail's Approve link in Chromium, fiona replies "genehmigt" from her
mail client, ivan completes, and alice's timeline says how each decision was taken."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect

from accountability.services.notifications import notifications_deliver
from accountability.services.replies import inbound_reply_process
from approvals.models import Step
from tests.accountability import mail_samples

pytestmark = pytest.mark.browser

LINK = re.compile(r"^(Approve|Reject|Ask a question): (\S+)\r?$", re.MULTILINE)


def _waiting_mail(smtp_server, address: str, reference: str):
    notifications_deliver()
    mails = [m for m in smtp_server.to(address)
             if "waits for your decision" in m["Subject"] and reference in m["Subject"]]
    assert len(mails) == 1, [m["Subject"] for m in smtp_server.to(address)]
    return mails[0]


def test_alice_s_request_decided_from_the_inbox_by_link_and_by_reply(
        org, sign_in, live_server, smtp_server, settings, browser):
    settings.SRM_BASE_URL = live_server.url
    settings.SRM_REPLY_DOMAIN = "reply.example.com"

    # alice submits a laptop over the finance threshold
    alice = sign_in("alice")
    alice.get_by_role("link", name="New laptop").click()
    alice.get_by_label("What do you need?").fill("My laptop's battery no longer holds a charge.")
    alice.get_by_label("Model").select_option("15-inch performance")
    alice.get_by_label("Short title").fill("Replacement laptop for Alice")
    alice.get_by_label("Estimated cost (EUR)").fill("6000")
    alice.get_by_role("button", name="Submit request").click()
    expect(alice.locator(".flash-success")).to_contain_text("Hank Hughes")
    reference = alice.locator(".request-head .mono").inner_text().strip()

    # hank opens the Approve link of his mail in a browser where he is not signed in
    to_hank = _waiting_mail(smtp_server, "hank@example.com", reference)
    approve = dict(LINK.findall(to_hank.get_body(("plain",)).get_content()))["Approve"]
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    try:
        hank = context.new_page()
        hank.goto(approve)
        expect(hank.locator("h1")).to_contain_text(f"Approve: {reference}")
        expect(hank.locator("dl.facts")).to_contain_text("€6,000.00")
        expect(hank.locator("dl.facts")).to_contain_text("Alice Adams (Marketing)")
        head = Step.objects.get(request__reference=reference, name="Head approval")
        assert head.state == "active"  # opening the link decided nothing
        hank.get_by_label("Comment (optional)").fill("Within the team's plan")
        hank.get_by_role("button", name="Approve").click()
        expect(hank.locator("#act-done")).to_contain_text(
            "“Head approval” is approved by Hank Hughes via e-mail link.")
        # The link again (the browser's Back, a second click) does nothing more.
        hank.goto(approve)
        expect(hank.locator("#act-problem")).to_contain_text("already used")
        expect(hank.locator("#act-submit")).to_have_count(0)
    finally:
        context.close()

    # fiona answers "genehmigt" from her mail client to the mail that asked her
    to_fiona = _waiting_mail(smtp_server, "fiona@example.com", reference)
    assert to_fiona["References"] == to_hank["References"]  # one conversation per request
    answer = mail_samples.outlook("genehmigt", sender="Fiona Fischer <fiona@example.com>",
                                  to=str(to_fiona["Reply-To"]), german=True)
    outcome = inbound_reply_process(message_from_bytes(answer.as_bytes(), policy=policy.default))
    assert outcome.outcome == "decided", outcome

    # ivan takes the IT step and completes it
    ivan = sign_in("ivan")
    row = ivan.locator("article.step-card", has_text=reference)
    row.get_by_role("button", name="Take it").click()
    expect(row).to_contain_text("Taken by")
    expect(row.get_by_role("button", name="Take it")).to_have_count(0)
    row.get_by_label("Note for the requester").fill("Delivered to desk 4")
    row.get_by_role("button", name="Mark done").click()
    expect(row).to_contain_text("The request is fulfilled")

    # alice's timeline says how each decision was taken
    alice.goto(f"{live_server.url}/portal/requests/{reference}/")
    expect(alice.locator(".request-head")).to_contain_text("Fulfilled")
    timeline = alice.locator(".timeline")
    expect(timeline).to_contain_text("Approved by Hank Hughes via e-mail link")
    expect(timeline).to_contain_text("Within the team's plan")
    expect(timeline).to_contain_text("Approved by Fiona Fischer by e-mail reply")
    expect(timeline).to_contain_text("Done by Ivan Ivanov")
