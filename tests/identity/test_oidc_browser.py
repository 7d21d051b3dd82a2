"""Single sign-on end to end in Chromium, against a real OpenID provider (tests/identity/
oidc_provider.mjs): SRM's sign-in page → the provider's login and consent → back to SRM,
signed in as the person the provider names, their facts taken from its claims."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accountability.models import Notification, NotificationKind
from approvals.choices import StepState
from approvals.services import step_approve, step_claim
from governance.choices import AuditVerb, IdentitySource, MembershipRole
from governance.models import AuditEvent, Membership, User
from tests.identity.conftest import PROVIDER_NAME

WAIT = 30_000  # ms

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _sign_in_at_provider(page, login: str) -> None:
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_placeholder("Enter any login").fill(login)
    page.get_by_placeholder("and password").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    # Two servers and a browser on a shared machine: generous waits, the same assertions.
    context.set_default_timeout(30_000)
    # The provider's development pages import a web font: nothing leaves the machine.
    context.route(re.compile(r"^https://fonts\."), lambda route: route.abort())
    yield context.new_page()
    context.close()


def test_alice_signs_in_through_the_provider_and_sees_her_requests(
        org, submit, oidc_settings, live_server, browser_page):
    # Given alice's request in SRM, and the company's provider configured
    request = submit(actor=org.alice)
    page = browser_page
    page.goto(f"{live_server.url}/portal/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"), timeout=WAIT)

    # When she chooses the provider on the sign-in page, signs in there and consents
    _sign_in_at_provider(page, "alice")

    # Then she is back in SRM, signed in, on the page she asked for, with her request
    expect(page).to_have_url(re.compile(rf"^{live_server.url}/portal/"), timeout=WAIT)
    page.goto(f"{live_server.url}/portal/requests/")
    expect(page.get_by_text(request.reference)).to_be_visible(timeout=WAIT)
    expect(page.locator("details.dropdown summary")).to_contain_text("Alice", timeout=WAIT)

    # ...her account now comes from the provider, with its e-mail and her department
    alice = User.objects.get(pk=org.alice.pk)
    assert (alice.source, alice.external_id) == (IdentitySource.OIDC, "alice")
    assert alice.email == "alice.adams@example.com"
    assert alice.department.code == "MKT"
    assert alice.manager == org.hank
    assert AuditEvent.objects.filter(verb=AuditVerb.USER_PROVISIONED,
                                     object_id=str(alice.pk)).exists()

    # When she signs out
    page.locator("details.dropdown summary").click()
    page.get_by_role("button", name="Sign out").click()

    # Then the provider ends its session too, and she lands on SRM's sign-in page
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(rf"^{live_server.url}/accounts/login/"), timeout=WAIT)
    page.goto(f"{live_server.url}/portal/requests/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"), timeout=WAIT)
    # ...and signing in again asks the provider for her login again (its session ended)
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.get_by_placeholder("Enter any login")).to_be_visible(timeout=WAIT)


def test_a_new_person_is_created_from_the_claims_at_first_sign_in(
        org, oidc_settings, live_server, browser_page):
    # Given nora, whom SRM does not know yet
    assert not User.objects.filter(username="nora").exists()
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")

    # When she signs in through the provider
    _sign_in_at_provider(page, "nora")

    # Then she is signed in, created with the provider's facts: IT, an agent (her group)
    expect(page.locator("details.dropdown summary")).to_contain_text("Nora", timeout=WAIT)
    nora = User.objects.get(username="nora")
    assert (nora.first_name, nora.last_name, nora.email) == (
        "Nora", "Newman", "nora.new@example.com")
    assert not nora.has_usable_password()
    assert nora.department.code == "IT"
    assert Membership.objects.get(user=nora, department=nora.department).role == \
        MembershipRole.AGENT
    verbs = set(AuditEvent.objects.filter(object_id=str(nora.pk)).values_list("verb", flat=True))
    assert {AuditVerb.USER_PROVISIONED, AuditVerb.USER_MOVED} <= verbs


def test_a_sign_in_that_moves_an_agent_gives_back_their_work_and_tells_the_head(
        org, submit, oidc_settings, live_server, browser_page):
    # Given ivan, an IT agent, has taken on an IT step; the provider now says he is in HR
    request = submit(item="access", cost="0", answers={"details": "VPN", "system": "VPN"})
    step_approve(actor=org.hank, step=request.steps.get(state=StepState.ACTIVE))
    step = request.steps.get(state=StepState.ACTIVE)
    step_claim(actor=org.ivan, step=step)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")

    # When he signs in through the provider
    _sign_in_at_provider(page, "ivan")

    # Then he is in HR, the step is back in IT's queue, and IT's head and he are told
    expect(page.locator("details.dropdown summary")).to_contain_text("Ivan", timeout=WAIT)
    assert User.objects.get(pk=org.ivan.pk).department.code == "HR"
    step.refresh_from_db()
    assert step.assignee is None
    released = AuditEvent.objects.get(verb=AuditVerb.STEP_RELEASED, object_id=str(step.pk))
    assert (released.data["previous_assignee"], released.data["reason"]) == ("ivan", "moved")
    assert Notification.objects.filter(recipient=org.irene, kind=NotificationKind.RELEASED,
                                       body__contains=request.reference).exists()
    page.goto(f"{live_server.url}/notifications/")
    expect(page.get_by_text("Your work in IT went back to its queue")).to_be_visible(timeout=WAIT)
