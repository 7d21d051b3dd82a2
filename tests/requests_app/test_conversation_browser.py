"""End to end in Chromium: Hank asks a question on Alice's request, Alice answers with a PDF,
Hank reads the answer, downloads the PDF and approves."""

import pytest

from approvals.choices import StepState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def signed_in(browser, live_server, username):
    context = browser.new_context(accept_downloads=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_hank_asks_alice_answers_with_a_pdf_hank_approves(org, submit, files, live_server,
                                                          tmp_path, browser):
    request = submit(cost="1200")
    url = f"{live_server.url}/portal/requests/{request.reference}/"
    pdf = files.minimal_pdf()
    hank = signed_in(browser, live_server, "hank")
    hank.goto(url)
    hank.get_by_text("Ask Alice Adams for more information").click()
    hank.get_by_label("Question").fill("Which screen size do you need, and why?")
    hank.get_by_role("button", name="Ask and put on hold").click()
    hank.wait_for_load_state()
    assert "on hold until they answer" in hank.locator("#messages").inner_text()
    assert "More information needed" in hank.locator("#open-question").inner_text()

    alice = signed_in(browser, live_server, "alice")
    alice.goto(url)
    assert "Which screen size do you need" in alice.locator("#open-question").inner_text()
    alice.get_by_label("Your answer").fill("13-inch; the supplier's quote is attached.")
    alice.locator("#answer-files").set_input_files(
        {"name": "supplier-quote.pdf", "mimeType": "application/pdf", "buffer": pdf})
    alice.get_by_role("button", name="Send answer").click()
    alice.wait_for_load_state()
    assert "Answer sent" in alice.locator("#messages").inner_text()
    assert alice.locator("#open-question").count() == 0

    hank.reload()
    timeline = hank.locator("#conversation .thread").inner_text()
    assert "13-inch; the supplier's quote is attached." in timeline
    assert "supplier-quote.pdf" in timeline
    with hank.expect_download() as download_info:
        hank.get_by_role("link", name="supplier-quote.pdf").click()
    saved = tmp_path / "download.pdf"
    download_info.value.save_as(saved)
    assert saved.read_bytes() == pdf

    # Hank approves on the same page: the question no longer stops anything.
    hank.get_by_role("button", name="Approve").click()
    hank.wait_for_load_state()
    step = request.steps.get(name="Head approval")
    assert step.state == StepState.APPROVED
    assert step.decided_by == org.hank
    assert request.steps.get(state=StepState.ACTIVE).name == "Fulfilment"
