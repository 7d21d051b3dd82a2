"""Delay notifications: written with the risk, delivered by e-mail once, listed in the app."""

from datetime import timedelta
from unittest import mock

import pytest
from delay_time import berlin
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accountability.models import EmailStatus, Notification, NotificationKind
from accountability.services.digests import digests_send
from accountability.services.notifications import (
    DELIVER_TASK,
    SWEEP_BATCH,
    notifications_deliver,
)
from accountability.services.risks import flag_delays
from operations.models import OutboxTask

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _delay_notices_alone(settings):
    """These tests count the delay notices; the lifecycle's (a submission tells the requester
    and the head) are tested in test_lifecycle_notices."""
    settings.SRM_LIFECYCLE_NOTICES = False


MONDAY_9 = berlin(2026, 11, 23, 9, 0)


def test_a_new_delay_notifies_only_the_accountable_head(org, overdue_step):
    step = overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))

    note = Notification.objects.get()
    assert note.recipient == org.hank
    assert note.kind == NotificationKind.RISK_RAISED
    assert step.request.reference in note.subject
    assert "€18.75" in note.body
    assert note.email_status == EmailStatus.PENDING


def test_level_3_also_tells_the_head_above_and_the_ops_leaders(org, overdue_step):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    flag_delays(now=berlin(2026, 11, 25, 10, 0))  # 9 h late: level 3

    escalated = Notification.objects.filter(kind=NotificationKind.RISK_ESCALATED)
    assert set(escalated.values_list("recipient__username", flat=True)) == {"hank", "oscar", "olivia"}
    assert "escalated to you" in escalated.get(recipient=org.oscar).body
    # Once at level 3, later scans stay quiet.
    flag_delays(now=berlin(2026, 11, 26, 10, 0))
    assert Notification.objects.count() == 4


def test_the_head_above_is_told_the_figures_not_a_request_they_may_not_open(org, overdue_step):
    # Oscar heads Operations, above Marketing: Marketing's delays are on his board, but
    # Alice's request is not his to open, so the escalation names the department instead.
    step = overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    flag_delays(now=berlin(2026, 11, 25, 10, 0))

    oscar = Notification.objects.get(recipient=org.oscar)
    told = f"{oscar.subject} {oscar.body} {oscar.link}"
    assert step.request.reference not in told and step.name not in told
    assert oscar.subject == "A delay in Marketing escalated to level 3"
    assert "Marketing, accountable: Hank Hughes" in oscar.body
    assert oscar.link == reverse("dashboard:department", args=["MKT"])
    hank = Notification.objects.filter(recipient=org.hank).latest("id")
    assert step.request.reference in hank.subject


def test_many_delays_at_once_are_one_message_per_person(org, overdue_step):
    for hour in (9, 10, 11):
        overdue_step(berlin(2026, 11, 23, hour, 0))
    flag_delays(now=berlin(2026, 11, 24, 12, 0))
    note = Notification.objects.get(recipient=org.hank)
    assert note.subject.startswith("3 delays need attention")


def test_a_scan_written_in_several_batches_is_still_one_message_per_person(
    org, overdue_step, monkeypatch
):
    """A large scan writes its risks in batches; the people it tells hear of all of them once."""
    monkeypatch.setattr("accountability.services.risks.BATCH", 2)
    for hour in (9, 10, 11, 12, 13):
        overdue_step(berlin(2026, 11, 23, hour, 0))
    result = flag_delays(now=berlin(2026, 11, 25, 16, 0))
    assert result.raised == 5
    note = Notification.objects.get(recipient=org.hank)
    assert note.subject.startswith("5 delays need attention")
    assert result.notifications == Notification.objects.count()


def test_each_notification_is_e_mailed_exactly_once(org, overdue_step):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))

    first = notifications_deliver()
    second = notifications_deliver()

    assert (first.sent, second.sent) == (1, 0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["Hank Hughes <hank@example.com>"]
    note = Notification.objects.get()
    assert note.email_status == EmailStatus.SENT
    assert note.attempts == 1
    assert note.email_sent_at is not None


@override_settings(SRM_NOTIFICATION_MAX_ATTEMPTS=3, SRM_NOTIFICATION_RETRY_SECONDS=30)
def test_a_failed_e_mail_is_retried_with_backoff_then_given_up(org, overdue_step):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    note = Notification.objects.get()
    now = note.next_attempt_at

    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("SMTP down")):
        assert notifications_deliver(now=now).failed == 1
        note.refresh_from_db()
        assert (note.attempts, note.next_attempt_at) == (1, now + timedelta(seconds=30))
        assert "SMTP down" in note.last_error
        # Not due yet: the sweep leaves it alone.
        assert notifications_deliver(now=now + timedelta(seconds=29)).failed == 0
        assert notifications_deliver(now=now + timedelta(seconds=30)).failed == 1
        note.refresh_from_db()
        assert note.next_attempt_at == now + timedelta(seconds=90)  # 30 s, then 60 s
        assert notifications_deliver(now=now + timedelta(hours=1)).gave_up == 1

    note.refresh_from_db()
    assert (note.email_status, note.attempts) == (EmailStatus.FAILED, 3)
    assert notifications_deliver(now=now + timedelta(days=1)).sent == 0
    assert mail.outbox == []


def test_a_broker_outage_never_breaks_the_action_that_wrote_the_notification(
    org, overdue_step, django_capture_on_commit_callbacks, caplog
):
    overdue_step(MONDAY_9)
    with mock.patch("operations.broker.current_app.send_task",
                    side_effect=ConnectionRefusedError("broker down")), \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = flag_delays(now=berlin(2026, 11, 24, 10, 0))

    assert result.raised == 1
    assert len(callbacks) == 1
    # The delivery task waits in the outbox for the dispatcher...
    waiting = OutboxTask.objects.get()
    assert waiting.task == DELIVER_TASK and waiting.attempts == 1
    assert "wait for the next run" in caplog.text
    # ...and the sweep delivers what the enqueue could not.
    assert notifications_deliver().sent == 1


def test_the_sweep_drains_every_due_notification_in_one_run(org, overdue_step):
    # Given more due notifications than one batch of the sweep
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    note = Notification.objects.get()
    Notification.objects.bulk_create([
        Notification(recipient=note.recipient, kind=note.kind, subject=f"n{i}",
                     created_at=note.created_at, next_attempt_at=note.next_attempt_at)
        for i in range(SWEEP_BATCH + 20)])

    # When the sweep runs once
    result = notifications_deliver()

    # Then all of them went out, not only the first batch
    assert result.sent == SWEEP_BATCH + 21
    assert not Notification.objects.filter(email_status=EmailStatus.PENDING).exists()


def test_someone_without_an_e_mail_address_still_gets_the_in_app_notification(org, overdue_step):
    org.hank.email = ""
    org.hank.save(update_fields=["email"])
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    assert Notification.objects.get().email_status == EmailStatus.NO_ADDRESS
    assert notifications_deliver().sent == 0


def test_the_list_shows_my_notifications_and_the_nav_counts_the_unread(
    org, overdue_step, client, django_assert_max_num_queries
):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    client.force_login(org.hank)

    # The page's own reads plus the navigation's: its badges' COUNTs (unread notifications
    # among them) in one statement, accountability visibility (EXISTS: departments hank
    # leads) and change-plan visibility (EXISTS).
    with django_assert_max_num_queries(9):
        page = client.get(reverse("notifications:list"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "is overdue" in html
    assert 'aria-label="1 unread"' in html

    client.force_login(org.alice)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "No notifications yet." in html
    assert "is overdue" not in html


def test_marking_read_is_mine_alone(org, overdue_step, client):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    note = Notification.objects.get()

    client.force_login(org.alice)
    assert client.post(reverse("notifications:read", args=[note.pk])).status_code == 404

    client.force_login(org.hank)
    response = client.post(reverse("notifications:read", args=[note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'aria-label="1 unread"' not in client.get(reverse("notifications:list")).content.decode()


def test_mark_all_read(org, overdue_step, client):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    client.force_login(org.hank)
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "Marked 1 notification(s) as read." in response.content.decode()
    assert not Notification.objects.unread().exists()


def test_weekly_digests_go_to_every_head_and_ops_leader_once_a_week(
    org, overdue_step, django_assert_max_num_queries
):
    overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    now = berlin(2026, 11, 30, 7, 0)

    # 16: one of them asks the risk rule which listed delays each head may see, for all heads;
    # one reads the recipients' e-mail preferences.
    with django_assert_max_num_queries(16):
        first = digests_send(now=now)
    second = digests_send(now=now + timedelta(hours=3))

    digests = Notification.objects.filter(kind=NotificationKind.DIGEST)
    assert first.written == digests.count() == 9  # 8 heads + 1 ops leader
    assert second.written == 0
    hank = digests.get(recipient=org.hank)
    assert hank.subject == "Weekly delays: 1 open, €18.75 exposure"
    assert "Oldest delays" in hank.body
    olivia = digests.get(recipient=org.olivia)
    assert "1. Marketing (hank)" in olivia.body
    assert digests.get(recipient=org.fiona).subject == "Weekly delays: nothing overdue"
