"""Deciding from the "waiting for your decision" e-mail: SRM sends through its real SMTP
backend to a test SMTP server, the tests read the delivered mail, open its links as a mail
client's browser would (no session) and check that opening decides nothing, the button
decides once, and every rule of the page holds for the link."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from accountability.mailout.links import action_url
from accountability.models import EmailActionUse, Notification, NotificationKind
from accountability.services.notifications import notifications_deliver
from approvals.models import Delegation, Step, StepHold
from approvals.services import delegation_create, delegation_end, step_approve
from governance.models import AuditEvent
from governance.services.org import department_set_head
from requests_app.choices import RequestState

pytestmark = pytest.mark.django_db

BASE = "http://srm.example.com"
LINK = re.compile(r"^(Approve|Reject|Ask a question): (\S+)\r?$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _base(settings):
    settings.SRM_BASE_URL = BASE
    settings.DEFAULT_FROM_EMAIL = "SRM <srm@example.com>"


def active(request) -> Step:
    return request.steps.select_related("request").get(state="active")


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def links_of(message) -> dict[str, str]:
    """``{"Approve": path, "Reject": path, "Ask a question": path}`` of the mail's text."""
    return {label: urlsplit(url).path for label, url in LINK.findall(text_of(message))}


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def waiting_mail(smtp_server, address: str):
    notifications_deliver()
    mails = [m for m in smtp_server.to(address) if "waits for your decision" in m["Subject"]]
    assert mails, f"no waiting mail to {address}"
    return mails[-1]


def decisions(step) -> int:
    return AuditEvent.objects.filter(object_id=str(step.pk),
                                     verb__in=["step.approved", "step.rejected"]).count()


def test_the_waiting_mail_is_text_and_html_with_the_facts_links_and_one_conversation(
        org, submit, smtp_server):
    request = submit(cost="6000")
    to_hank = waiting_mail(smtp_server, "hank@example.com")
    (to_alice,) = smtp_server.to("alice@example.com")

    text, html = text_of(to_hank), html_of(to_hank)
    for fact in ("Requested by: Alice Adams (Marketing)", "Item: New laptop",
                 "Estimated cost: €6,000.00", "Budget line: CC-1700 Marketing, 20",
                 "Decide by: "):
        assert fact in text
    assert "€6,000.00" in html and "Alice Adams (Marketing)" in html
    assert set(links_of(to_hank)) == {"Approve", "Reject", "Ask a question"}
    for action in ("approve", "reject", "ask"):
        assert f'data-action="{action}" ' in html
    assert "nothing is decided by opening it" in html
    # One conversation per request: each mail its own id, both referring to the request's.
    notification = Notification.objects.get(recipient=org.hank, kind=NotificationKind.WAITING)
    assert to_hank["Message-ID"] == f"<srm.notification.{notification.pk}@example.com>"
    assert to_hank["Message-ID"] != to_alice["Message-ID"]
    thread = f"<srm.request.{request.reference}@example.com>"
    assert to_hank["In-Reply-To"] == to_hank["References"] == thread
    assert to_alice["References"] == thread
    assert to_hank["List-Unsubscribe"] == f"<{BASE}/notifications/preferences/>"
    assert f"{BASE}/notifications/preferences/" in text


def test_a_subject_someone_typed_cannot_add_headers(org, submit, smtp_server):
    submit(cost="100", title="Laptop\u2028Bcc: someone@elsewhere.example")
    to_hank = waiting_mail(smtp_server, "hank@example.com")
    assert to_hank["Bcc"] is None
    assert "Laptop Bcc: someone@elsewhere.example" in to_hank["Subject"]
    assert smtp_server.to("someone@elsewhere.example") == []


def test_opening_the_link_decides_nothing_the_button_decides_once(org, submit, smtp_server):
    request = submit(cost="6000")
    to_hank = waiting_mail(smtp_server, "hank@example.com")
    approve = links_of(to_hank)["Approve"]
    step = active(request)
    browser = Client(enforce_csrf_checks=True)  # a mail client's browser: no session

    for _ in range(2):  # a link scanner, then the person
        page = browser.get(approve)
        assert page.status_code == 200
        content = page.content.decode()
        assert request.reference in content and "Alice Adams (Marketing)" in content
        assert "€6,000.00" in content and 'id="act-submit"' in content
        assert page["Referrer-Policy"] == "no-referrer"
    step.refresh_from_db()
    assert step.state == "active" and decisions(step) == 0

    done = browser.post("/notifications/act/", {"token": token_of(approve), "text": "Fine"})

    assert done.status_code == 200
    assert "“Head approval” is approved by Hank Hughes via e-mail link." in done.content.decode()
    step.refresh_from_db()
    assert (step.state, step.decided_by, step.channel, step.comment) == (
        "approved", org.hank, "email_link", "Fine")
    event = AuditEvent.objects.get(object_id=str(step.pk), verb="step.approved")
    assert event.data["channel"] == "email_link"
    assert event.data["message_id"] == to_hank["Message-ID"]
    assert active(request).name == "Finance approval"

    replay = browser.post("/notifications/act/", {"token": token_of(approve)})
    assert replay.status_code == 409
    assert "already used" in replay.content.decode()
    assert decisions(step) == 1
    # The mail's other links are used up with it.
    reject = browser.get(links_of(to_hank)["Reject"])
    assert reject.status_code == 409 and 'id="act-submit"' not in reject.content.decode()


def test_reject_needs_its_reason_and_the_link_stays_usable_until_it_decides(org, submit,
                                                                            smtp_server):
    request = submit(cost="6000")
    reject = token_of(links_of(waiting_mail(smtp_server, "hank@example.com"))["Reject"])
    browser = Client()

    refused = browser.post("/notifications/act/", {"token": reject, "text": "  "})

    assert refused.status_code == 400
    assert "Say why you reject it" in refused.content.decode()
    assert not EmailActionUse.objects.exists()
    done = browser.post("/notifications/act/", {"token": reject, "text": "Use the spare one"})
    assert done.status_code == 200
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert request.steps.get(name="Head approval").channel == "email_link"


def test_ask_a_question_puts_the_step_on_hold_through_the_link(org, submit, smtp_server):
    request = submit(cost="6000")
    links = links_of(waiting_mail(smtp_server, "hank@example.com"))
    browser = Client()

    done = browser.post("/notifications/act/", {"token": token_of(links["Ask a question"]),
                                                "text": "Which model exactly?"})

    assert done.status_code == 200
    assert "Your question went to Alice Adams" in done.content.decode()
    step = active(request)
    assert step.is_on_hold
    hold = StepHold.objects.get(step=step)
    assert (hold.question, hold.asked_by) == ("Which model exactly?", org.hank)
    held = AuditEvent.objects.get(object_id=str(step.pk), verb="step.held")
    assert held.data["channel"] == "email_link"
    # The same e-mail cannot then approve as well: its links decide once.
    assert browser.post("/notifications/act/",
                        {"token": token_of(links["Approve"])}).status_code == 409
    assert active(request).state == "active"


def test_a_get_without_a_valid_token_explains_and_a_bad_post_changes_nothing(org, submit):
    request = submit(cost="100")
    browser = Client()
    assert browser.get("/notifications/act/not-a-token/").status_code == 400
    assert browser.post("/notifications/act/", {"token": "x"}).status_code == 400
    assert browser.post("/notifications/act/", {}).status_code == 400
    assert active(request).state == "active"


# --- Every rule of the page holds for the link --------------------------------------------
def _link_for(person, step, action="approve") -> str:
    """A link as a "waiting" mail to ``person`` about ``step`` would carry."""
    notification = Notification.objects.create(recipient=person, kind=NotificationKind.WAITING,
                                               subject="waits", request=step.request, step=step)
    return urlsplit(action_url(notification=notification, step=step, approver=person,
                               action=action)).path


def _self_approval(org, submit, monkeypatch):
    request = submit(actor=org.hank, cost="100")  # hank's own request: his head decides it
    return _link_for(org.hank, active(request)), "You cannot decide on your own request."


def _second_level_by_the_same_person(org, submit, monkeypatch):
    # Fiona lets Hank decide for her (a delegation given in the admin); Hank approved the
    # head step, so the finance step is not his to decide as her delegate.
    today = timezone.localdate()
    Delegation.objects.create(delegator=org.fiona, delegate=org.hank, starts_on=today,
                              ends_on=today + timedelta(days=7))
    request = submit(cost="6000")
    step_approve(actor=org.hank, step=active(request))
    return _link_for(org.hank, active(request)), "You already approved “Head approval” as head"


def _decided_by_someone_else(org, submit, monkeypatch):
    today = timezone.localdate()
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=today, ends_on=today)
    request = submit(cost="100")
    link = _link_for(org.hank, active(request))
    step_approve(actor=org.bob, step=active(request))
    return link, "was already approved by Bob"


def _stale_version(org, submit, monkeypatch):
    request = submit(cost="100")
    link = _link_for(org.hank, active(request))
    # The step started again (a new round): the link was for the earlier one.
    Step.objects.filter(pk=active(request).pk).update(
        activated_at=timezone.now() + timedelta(seconds=1))
    return link, "this link was for the earlier round"


def _after_head_change(org, submit, monkeypatch):
    request = submit(cost="100")
    link = _link_for(org.hank, active(request))
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob)
    return link, "Who decides this approval changed since this e-mail was sent"


def _after_delegation_end(org, submit, monkeypatch):
    today = timezone.localdate()
    delegation = delegation_create(actor=org.hank, delegate=org.bob, starts_on=today,
                                   ends_on=today)
    request = submit(cost="100")
    link = _link_for(org.bob, active(request))
    delegation_end(actor=org.hank, delegation=delegation)
    return link, "Who decides this approval changed since this e-mail was sent"


def _expired(org, submit, monkeypatch):
    request = submit(cost="100")
    eight_days_ago = timezone.now().timestamp() - 8 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_ago)
    link = _link_for(org.hank, active(request))
    monkeypatch.undo()
    return link, "This link expired on"


def _replayed(org, submit, monkeypatch):
    request = submit(cost="6000")
    link = _link_for(org.hank, active(request))
    assert Client().post("/notifications/act/", {"token": token_of(link)}).status_code == 200
    return link, "already used"


RULES = {
    "self-approval": (_self_approval, 403),
    "second level by the same person": (_second_level_by_the_same_person, 403),
    "decided by someone else": (_decided_by_someone_else, 409),
    "stale step version": (_stale_version, 409),
    "used link replayed": (_replayed, 409),
    "after a head change": (_after_head_change, 403),
    "after the delegation ended": (_after_delegation_end, 403),
    "expired": (_expired, 410),
}


@pytest.mark.parametrize("case", list(RULES))
def test_a_link_decides_only_when_the_page_would(case, org, submit, monkeypatch):
    given, status = RULES[case]
    link, why = given(org, submit, monkeypatch)
    steps_before = list(Step.objects.order_by("pk").values_list("pk", "state", "decided_by"))
    events_before = AuditEvent.objects.count()
    browser = Client()

    shown = browser.get(link)
    tried = browser.post("/notifications/act/", {"token": token_of(link), "text": "ok"})

    for response in (shown, tried):
        content = response.content.decode()
        assert response.status_code == status, (case, content)
        assert why in content, (case, re.findall(r'id="act-problem"[^>]*>([^<]*)', content))
        assert 'id="act-submit"' not in content
    # The way on instead: the request, or their approvals when it is no longer theirs to see.
    assert re.search(r'id="open-(request|inbox)"', shown.content.decode())
    assert list(Step.objects.order_by("pk").values_list("pk", "state", "decided_by")) == steps_before
    assert AuditEvent.objects.count() == events_before
