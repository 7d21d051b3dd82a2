"""Notices are written in the language of the person who reads them, not of the person who
acted: a German head hears of an English requester's request in German, and the English
requester hears of the German head's decision in English."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accountability.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


def _client(user, language: str) -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def test_a_german_head_is_notified_in_german_while_the_requester_acts_in_english(org):
    org.alice.language = "en"
    org.alice.save(update_fields=["language"])
    response = _client(org.alice, "en").post(reverse("portal:submit", args=["laptop"]), {
        "details": "For the team.", "model": "13-inch standard", "estimated_cost": "1,200.00",
    })
    assert response.status_code == 302
    submitted = Notification.objects.get(kind=NotificationKind.SUBMITTED)
    waiting = Notification.objects.get(kind=NotificationKind.WAITING)
    request, step = waiting.request, waiting.step
    head = step.accountable_head
    # The requester (English) reads English, as before
    assert submitted.recipient == org.alice
    assert submitted.subject == f"{request.reference} submitted: {request.title}"
    assert "Its path:" in submitted.body
    # A German head: the same event, in German, from an English actor
    waiting.delete()
    head.language = "de"
    head.save(update_fields=["language"])
    from accountability.services.lifecycle_notices import on_step_handed_over
    on_step_handed_over(None, step=step, at=step.activated_at)
    german = Notification.objects.get(kind=NotificationKind.WAITING, recipient=head)
    assert german.subject == f"{request.reference} wartet auf Ihre Entscheidung: {request.title}"
    assert f"„{step.name}“ entscheiden Sie bis" in german.body
    assert "Geschätzte Kosten:" in german.body and "waits for your decision" not in german.body
    # Its e-mail, composed by the worker, speaks German around it too
    from accountability.mailout.compose import notification_email
    mail = notification_email(german)
    assert mail.subject == f"[SRM] {german.subject}"
    assert "Angefragt von" in mail.body and "Requested by" not in mail.body


def test_the_english_requester_hears_of_a_german_heads_decision_in_english(org, submit):
    request = submit(actor=org.alice)
    step = request.current_step
    head = step.accountable_head
    head.language = "de"
    head.save(update_fields=["language"])
    done = _client(head, "de").post(reverse("approvals:approve", args=[step.pk]),
                                    {"comment": ""})
    assert done.status_code == 302
    approved = Notification.objects.get(kind=NotificationKind.APPROVED, recipient=org.alice)
    assert approved.subject.startswith(f"{request.reference}: {step.name} approved (1 of ")
    assert approved.body.startswith(f"{head} approved “{request.title}”.")


def test_a_delay_and_the_weekly_digest_reach_a_german_head_in_german(org, overdue_step,
                                                                     settings):
    from delay_time import berlin

    from accountability.services.digests import digests_send
    from accountability.services.risks import flag_delays

    settings.SRM_LIFECYCLE_NOTICES = False
    org.hank.language = "de"
    org.hank.save(update_fields=["language"])
    step = overdue_step(berlin(2026, 11, 23, 9, 0))
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    notice = Notification.objects.get(kind=NotificationKind.RISK_RAISED)
    assert notice.recipient == org.hank
    assert notice.subject == f"{step.request.reference} „{step.name}“ ist überfällig"
    assert notice.body.startswith("Diese Schritte, für die Sie verantwortlich sind, sind "
                                  "überfällig:")
    digests_send(now=berlin(2026, 11, 30, 7, 0))
    digests = Notification.objects.filter(kind=NotificationKind.DIGEST)
    assert digests.get(recipient=org.hank).subject.startswith("Wöchentliche Verzögerungen: 1 offen")
    # The ops leader reads English, as before
    assert "Top bottlenecks by exposure:" in digests.get(recipient=org.olivia).body


def test_a_question_from_an_english_agent_reaches_a_german_requester_in_german(org, submit):
    org.alice.language = "de"
    org.alice.save(update_fields=["language"])
    request = submit(actor=org.alice)
    step = request.current_step
    head = step.accountable_head
    asked = _client(head, "en").post(
        reverse("conversation:hold", args=[request.reference, step.pk]),
        {"question": "Which model exactly?"})
    assert asked.status_code == 302
    question = Notification.objects.get(kind=NotificationKind.QUESTION)
    assert question.recipient == org.alice
    assert question.subject == f"{request.reference}: {head} braucht weitere Informationen"
    assert "wartet auf Ihre Antwort" in question.body and "Which model exactly?" in question.body
