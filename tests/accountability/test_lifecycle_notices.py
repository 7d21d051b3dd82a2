"""A request's lifecycle reaches its requester (and the next decider) in the app and by
e-mail, through the notification outbox: what each person reads, and what they can turn off."""

import pytest
from django.core import mail
from django.urls import reverse

from accountability.models import EmailStatus, Notification, NotificationKind
from accountability.services.notifications import (
    daily_summaries_send,
    notification_preferences_set,
    notifications_deliver,
)
from approvals.choices import StepState
from approvals.services import request_cancel, step_approve, step_claim, step_complete, step_reject
from governance.errors import ValidationFailed

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000"


def active(request):
    return request.steps.select_related("request").get(state=StepState.ACTIVE)


def mails_to(address):
    notifications_deliver()
    return [m for m in mail.outbox if m.to[0].endswith(f"<{address}>")]


def html(message) -> str:
    (body, mimetype), = message.alternatives
    assert mimetype == "text/html"
    return body


def test_submitting_tells_the_requester_the_path_and_the_head_what_waits(org, submit, settings):
    settings.SRM_BASE_URL = BASE
    request = submit(cost="1200")
    url = f"{BASE}/portal/requests/{request.reference}/"
    assert request.get_absolute_url() in url

    (to_alice,) = mails_to("alice@example.com")
    assert to_alice.subject == f"[SRM] {request.reference} submitted: New laptop"
    assert "1. Head approval — Hank Hughes (Marketing)  ← now" in to_alice.body
    assert "2. Fulfilment — Irene Ito (IT)" in to_alice.body
    assert "Expected to be fulfilled by" in to_alice.body
    assert BASE + request.get_absolute_url() in to_alice.body
    assert f'href="{BASE}{request.get_absolute_url()}"' in html(to_alice)

    (to_hank,) = mails_to("hank@example.com")
    assert to_hank.subject == f"[SRM] {request.reference} waits for your decision: New laptop"
    assert "Alice Adams (Marketing) asks for New laptop" in to_hank.body
    assert "€1,200.00" in to_hank.body
    assert Notification.objects.get(recipient=org.hank).link == request.get_absolute_url()


def test_each_approval_then_fulfilment_is_news_for_the_requester(org, submit):
    request = submit(cost="7000")  # over the finance threshold: head, finance, fulfilment
    step_approve(actor=org.hank, step=active(request), comment="Fine by me.")
    step_approve(actor=org.fiona, step=active(request))
    it = active(request)
    step_claim(actor=org.ivan, step=it)
    step_complete(actor=org.ivan, step=it)

    subjects = [m.subject for m in mails_to("alice@example.com")]
    ref = request.reference
    assert subjects == [
        f"[SRM] {ref} submitted: New laptop",
        f"[SRM] {ref}: Head approval approved (1 of 2)",
        f"[SRM] {ref}: Finance approval approved (2 of 2)",
        f"[SRM] {ref} fulfilled: New laptop",
    ]
    first = mails_to("alice@example.com")[1]
    assert "Hank Hughes approved “New laptop”." in first.body
    assert "“Fine by me.”" in first.body
    assert "Next: “Finance approval” by Fiona" in first.body
    assert "Next: IT carries it out." in mails_to("alice@example.com")[2].body.replace(
        "Approved in full. ", "")
    # In the app too, newest first.
    kinds = list(Notification.objects.filter(recipient=org.alice).values_list("kind", flat=True))
    assert kinds[0] == NotificationKind.FULFILLED


def test_a_rejection_carries_its_reason(org, submit):
    request = submit(cost="1200")
    step_reject(actor=org.hank, step=active(request), comment="We have spare laptops in stock.")

    rejected = mails_to("alice@example.com")[-1]
    assert rejected.subject == f"[SRM] {request.reference} rejected: New laptop"
    assert "Hank Hughes rejected “New laptop”." in rejected.body
    assert "Reason: We have spare laptops in stock." in rejected.body
    assert "We have spare laptops in stock." in html(rejected)


def test_a_cancellation_tells_the_requester_who_and_why(org, submit):
    request = submit(cost="1200")
    request_cancel(actor=org.olivia, request=request, reason="Duplicate of an older request.")

    cancelled = mails_to("alice@example.com")[-1]
    assert cancelled.subject == f"[SRM] {request.reference} cancelled: New laptop"
    assert "Olivia" in cancelled.body and "cancelled “New laptop”" in cancelled.body
    assert "Why: Duplicate of an older request." in cancelled.body


def test_a_decided_step_s_waiting_notice_is_done(org, submit):
    request = submit(cost="1200")
    waiting = Notification.objects.get(recipient=org.hank, kind=NotificationKind.WAITING)
    assert waiting.read_at is None
    step_approve(actor=org.hank, step=active(request))
    waiting.refresh_from_db()
    assert waiting.read_at is not None


def test_a_person_turns_off_e_mail_per_kind_but_keeps_the_in_app_notice(org, submit):
    notification_preferences_set(actor=org.alice, email_off=[NotificationKind.SUBMITTED,
                                                             NotificationKind.APPROVED],
                                 daily_summary=False)
    request = submit(cost="1200")
    step_reject(actor=org.hank, step=active(request), comment="Not this quarter.")

    assert [m.subject for m in mails_to("alice@example.com")] == [
        f"[SRM] {request.reference} rejected: New laptop"]
    submitted = Notification.objects.get(recipient=org.alice, kind=NotificationKind.SUBMITTED)
    assert submitted.email_status == EmailStatus.OFF


def test_questions_and_delays_cannot_be_turned_off(org):
    with pytest.raises(ValidationFailed) as refused:
        notification_preferences_set(actor=org.alice, email_off=[NotificationKind.QUESTION],
                                     daily_summary=False)
    assert refused.value.code == "notification_kind_fixed"


def test_an_approver_may_take_one_summary_a_day_instead_of_a_mail_each(org, submit, settings):
    settings.SRM_BASE_URL = BASE
    notification_preferences_set(actor=org.hank, email_off=[], daily_summary=True)
    first = submit(cost="1200")
    second = submit(actor=org.bob, cost="300")

    assert mails_to("hank@example.com") == []
    assert daily_summaries_send() == 1
    assert daily_summaries_send() == 0  # sent once
    (summary,) = mails_to("hank@example.com")
    assert summary.subject == "[SRM] 2 items wait for your decision"
    assert BASE + first.get_absolute_url() in summary.body
    assert BASE + second.get_absolute_url() in summary.body
    # Each item with its own Approve / Reject / Ask links.
    assert summary.body.count(f"Approve: {BASE}/notifications/act/") == 2
    assert summary.body.count("Ask a question: ") == 2
    assert html(summary).count('data-action="reject"') == 2


def test_the_preferences_page_saves_what_the_person_ticks(org, client):
    client.force_login(org.alice)
    url = reverse("notifications:preferences")
    page = client.get(url)
    assert page.status_code == 200
    assert "Always e-mailed" in page.content.decode()

    # Everything ticked except "Approval given".
    wanted = [k for k in ("submitted", "rejected", "fulfilled", "cancelled", "waiting",
                          "comment", "answer", "digest", "plan", "released")]
    response = client.post(url, {"email": wanted}, follow=True)
    assert "Your e-mail preferences are saved." in response.content.decode()
    assert org.alice.notification_preference.email_off == ["approved"]
    body = client.get(url).content.decode()
    assert 'value="approved" id="id_email_1">' in body
    assert 'value="submitted" id="id_email_0" checked>' in body
