"""The notification outbox: write rows in the caller's transaction, deliver them afterwards.

- ``notifications_create`` inserts the rows where the change happens (same transaction) and
  asks for their delivery through the task outbox (``operations.outbox``): the request never
  waits on the broker, and the task is published after the commit. The beat sweep (every
  minute) delivers whatever is still pending, until none is due or its time is spent.
- ``notifications_deliver`` sends pending rows by e-mail. Each row is claimed with
  ``SELECT … FOR UPDATE SKIP LOCKED``, re-checked, sent, and marked sent in its own short
  transaction, so two workers (or a worker and the sweep) never send the same row twice. A
  failure records the error and schedules the next attempt with exponential backoff; after
  ``SRM_NOTIFICATION_MAX_ATTEMPTS`` the row is marked failed (it stays in the in-app list).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.mailout.compose import notification_email, summary_email
from accountability.models import (
    OPTIONAL_KINDS,
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from governance.choices import AuditVerb
from governance.errors import NotAllowed, ValidationFailed
from governance.models import User
from governance.services.audit import audit_record
from operations import context as outbox_context
from operations import outbox
from operations.models import OutboxTask

logger = logging.getLogger(__name__)

# The task that delivers rows now (see accountability.tasks; a test checks the name exists).
DELIVER_TASK = "accountability.tasks.deliver_notifications"

# One sweep sends until nothing is due or this many seconds have passed (under the task's
# soft time limit of 120 s), a batch at a time.
SWEEP_SECONDS = 100
SWEEP_BATCH = 500

# What a mail says about its request and step (compose: the key facts, the action links).
_MAIL_RELATED = ("recipient", "request__requester", "request__requester_department",
                 "request__item", "step")


@dataclass(frozen=True)
class Draft:
    recipient: User
    kind: str
    subject: str
    body: str = ""
    link: str = ""
    dedupe_key: str | None = None
    reply_to: str = ""
    request: object = None  # the ServiceRequest it is about: its mails form one conversation
    step: object = None  # the approval a "waiting" notice asks to decide: its action links


def _email_status(draft: Draft, preferences: dict[int, NotificationPreference]) -> str:
    if not draft.recipient.email:
        return EmailStatus.NO_ADDRESS
    preference = preferences.get(draft.recipient.pk)
    if preference is None:
        return EmailStatus.PENDING
    if not preference.emails(draft.kind):
        return EmailStatus.OFF
    if draft.kind == NotificationKind.WAITING and preference.daily_summary:
        return EmailStatus.DAILY
    return EmailStatus.PENDING


def notifications_create(*, drafts: list[Draft], at: datetime | None = None,
                         done_about: str = "") -> list[Notification]:
    """Write the notifications in the current transaction; deliver them after it commits,
    by e-mail unless the recipient turned that kind off (``NotificationPreference``).
    Drafts whose ``dedupe_key`` already exists are skipped (a job that ran twice).
    ``done_about``: a link whose unread "waiting" notices are done (read at ``at``) first,
    in the same statement on PostgreSQL (a decided step's, ``lifecycle_notices``)."""
    at = at or timezone.now()
    if connection.vendor == "postgresql" and drafts and not any(d.dedupe_key for d in drafts):
        return _create_pg(drafts, at, done_about)
    if done_about:
        Notification.objects.filter(link=done_about, kind=NotificationKind.WAITING).unread(
            ).update(read_at=at)
    if not drafts:
        return []
    optional = {d.recipient.pk for d in drafts if d.kind in OPTIONAL_KINDS}
    preferences = ({p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=optional)}
                   if optional else {})
    rows = [
        Notification(
            recipient=d.recipient, kind=d.kind, subject=d.subject[:200], body=d.body,
            link=d.link[:300], dedupe_key=d.dedupe_key, reply_to=d.reply_to, created_at=at,
            request=d.request, step=d.step,
            next_attempt_at=at,
            email_status=_email_status(d, preferences),
        )
        for d in drafts
    ]
    created = Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=any(
        r.dedupe_key for r in rows))
    ids = [n.pk for n in created if n.pk and n.email_status == EmailStatus.PENDING]
    if any(n.pk is None for n in created):
        # ignore_conflicts does not return ids: look the survivors up by key.
        keys = [n.dedupe_key for n in created if n.dedupe_key]
        ids = list(Notification.objects.filter(
            dedupe_key__in=keys, email_status=EmailStatus.PENDING, created_at=at
        ).values_list("pk", flat=True))
    if ids:
        # By the task's name: the tasks module sits above the services (it imports them).
        outbox.enqueue(DELIVER_TASK, args=[ids])
    return created


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


# The rows, their e-mail status read from the recipients' preferences as ``_email_status``
# reads it (a kind that is always e-mailed never looks at them), and the delivery task for
# the pending ones: one statement.
_DONE_PG = f"""
WITH done AS (
    UPDATE {_q(Notification._meta.db_table)} SET read_at = %(at)s
    WHERE link = %(done_about)s AND kind = %(waiting)s
        AND read_at IS NULL
), """
_CREATE_PG = f"""
v AS (
    SELECT * FROM unnest(%(recipient)s::bigint[], %(kind)s::text[], %(subject)s::text[],
                         %(body)s::text[], %(link)s::text[], %(reply_to)s::text[],
                         %(request)s::bigint[], %(step)s::bigint[], %(addressed)s::boolean[])
        WITH ORDINALITY AS v(recipient, kind, subject, body, link, reply_to, request, step,
                             addressed, n)
), n AS (
    INSERT INTO {_q(Notification._meta.db_table)} (recipient_id, kind, subject, body, link,
        reply_to, request_id, step_id, dedupe_key, created_at, read_at, email_status,
        email_sent_at, attempts, last_error, next_attempt_at)
    SELECT v.recipient, v.kind, v.subject, v.body, v.link, v.reply_to, v.request, v.step, NULL,
        %(at)s, NULL,
        CASE WHEN NOT v.addressed THEN '{EmailStatus.NO_ADDRESS.value}'
             WHEN p.user_id IS NULL THEN '{EmailStatus.PENDING.value}'
             WHEN p.email_off ? v.kind THEN '{EmailStatus.OFF.value}'
             WHEN v.kind = %(waiting)s AND p.daily_summary
                 THEN '{EmailStatus.DAILY.value}'
             ELSE '{EmailStatus.PENDING.value}' END,
        NULL, 0, '', %(at)s
    FROM v LEFT JOIN {_q(NotificationPreference._meta.db_table)} p
        ON p.user_id = v.recipient AND v.kind = ANY(%(optional)s::text[])
    ORDER BY v.n
    RETURNING id, email_status
), task AS (
    INSERT INTO {_q(OutboxTask._meta.db_table)} (task, args, kwargs, request_id, created_at,
        available_at, attempts, last_error)
    SELECT %(task)s, jsonb_build_array(jsonb_agg(n.id ORDER BY n.id)), '{{}}'::jsonb,
        %(request_id)s, %(now)s, %(now)s, 0, ''
    FROM n WHERE n.email_status = '{EmailStatus.PENDING.value}'
    HAVING count(*) > 0
    RETURNING id
)
SELECT n.id, n.email_status, (SELECT id FROM task) FROM n ORDER BY n.id
"""


def _create_pg(drafts: list[Draft], at: datetime, done_about: str) -> list[Notification]:
    """``notifications_create`` on PostgreSQL, without dedupe keys: the rows, their e-mail
    status and their delivery task in one statement (not a read of the preferences, the
    rows' insert and the task's), and the "waiting" notices ``done_about`` marked read."""
    rows = [
        Notification(
            recipient=d.recipient, kind=d.kind, subject=d.subject[:200], body=d.body,
            link=d.link[:300], dedupe_key=None, reply_to=d.reply_to, created_at=at,
            request=d.request, step=d.step, next_attempt_at=at,
        )
        for d in drafts
    ]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute((_DONE_PG if done_about else "WITH ") + _CREATE_PG, {
            "done_about": done_about, "waiting": NotificationKind.WAITING.value,
            "recipient": [r.recipient_id for r in rows],
            "kind": [str(r.kind) for r in rows],
            "subject": [r.subject for r in rows], "body": [r.body for r in rows],
            "link": [r.link for r in rows], "reply_to": [r.reply_to for r in rows],
            "request": [r.request_id for r in rows], "step": [r.step_id for r in rows],
            "addressed": [bool(d.recipient.email) for d in drafts],
            "optional": [str(k) for k in OPTIONAL_KINDS], "at": at,
            "task": DELIVER_TASK, "request_id": outbox_context.request_id.get(), "now": now,
        })
        written = cursor.fetchall()
    task_id = None
    for row, (pk, status, task) in zip(rows, written, strict=True):
        row.pk, row.email_status, task_id = pk, status, task
        row._state.adding, row._state.db = False, connection.alias
    if task_id is not None:
        outbox.enqueued(task_id)
    return rows


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def _backoff(attempts: int) -> timedelta:
    base = settings.SRM_NOTIFICATION_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def notification_deliver_one(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one pending row by e-mail, at most once. Returns what happened."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(*_MAIL_RELATED)
            .filter(pk=notification_id, email_status=EmailStatus.PENDING)
            .first()
        )
        if notification is None:
            return "skipped"  # sent, given up, or another worker holds it right now
        notification.attempts += 1
        try:
            notification_email(notification).send(fail_silently=False)
        except Exception as exc:
            notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if notification.attempts >= settings.SRM_NOTIFICATION_MAX_ATTEMPTS:
                notification.email_status = EmailStatus.FAILED
                outcome = "gave_up"
            else:
                notification.next_attempt_at = now + _backoff(notification.attempts)
                outcome = "failed"
            logger.warning("Notification %s not sent (attempt %s): %s", notification.pk,
                           notification.attempts, notification.last_error)
        else:
            notification.email_status = EmailStatus.SENT
            notification.email_sent_at = now
            notification.last_error = ""
            outcome = "sent"
        notification.save(update_fields=[
            "attempts", "last_error", "email_status", "email_sent_at", "next_attempt_at"])
        return outcome


def notifications_deliver(*, ids: list[int] | None = None, now: datetime | None = None,
                          seconds: float = SWEEP_SECONDS) -> DeliveryResult:
    """Deliver the given rows, or (``ids`` None: the sweep) every pending row that is due,
    a batch at a time, until none is left or ``seconds`` have passed."""
    now = now or timezone.now()
    result = DeliveryResult()
    if ids is not None:
        _deliver(ids, now, result)
        return result
    deadline = time.monotonic() + seconds
    after = (now - timedelta(days=36500), 0)  # rows that failed in this sweep wait for later
    while time.monotonic() < deadline:
        batch = list(
            Notification.objects.due_for_email(now)
            .filter(Q(next_attempt_at__gt=after[0]) | Q(next_attempt_at=after[0], pk__gt=after[1]))
            .order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:SWEEP_BATCH]
        )
        if not batch:
            break
        _deliver([pk for pk, _at in batch], now, result)
        after = (batch[-1][1], batch[-1][0])
    return result


def _deliver(ids: list[int], now: datetime, result: DeliveryResult) -> None:
    for pk in ids:
        outcome = notification_deliver_one(notification_id=pk, now=now)
        if outcome == "sent":
            result.sent += 1
        elif outcome == "failed":
            result.failed += 1
        elif outcome == "gave_up":
            result.gave_up += 1


# --- In-app list ---------------------------------------------------------------------------
@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    updated = Notification.objects.restrict(actor, "change").filter(
        pk=notification.pk, read_at__isnull=True
    ).update(read_at=timezone.now())
    if not updated and notification.recipient_id != actor.pk:
        raise NotAllowed(_("This notification is someone else's."), code="not_recipient")
    notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: User) -> int:
    return Notification.objects.restrict(actor, "change").unread().update(read_at=timezone.now())


# --- Preferences and the daily summary ---------------------------------------------------
@transaction.atomic
def notification_preferences_set(*, actor: User, email_off: list[str], daily_summary: bool,
                                 at: datetime | None = None) -> NotificationPreference:
    """Save which kinds ``actor`` no longer wants by e-mail (in-app stays on); the kinds
    that are always e-mailed cannot be turned off."""
    at = at or timezone.now()
    unknown = sorted(set(email_off) - set(OPTIONAL_KINDS))
    if unknown:
        raise ValidationFailed(
            _("These notices are always e-mailed: %(kinds)s.") % {"kinds": ", ".join(unknown)},
            code="notification_kind_fixed",
            field_errors={"email_off": [_("Delays and questions are always e-mailed.")]},
        )
    email_off = sorted(set(email_off))
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
    before = {"email_off": preference.email_off, "daily_summary": preference.daily_summary}
    preference.email_off, preference.daily_summary = email_off, daily_summary
    preference.updated_at = at
    preference.save(update_fields=["email_off", "daily_summary", "updated_at"])
    audit_record(
        actor=actor, verb=AuditVerb.NOTIFICATION_PREFERENCES_CHANGED, target=preference,
        data={"before": before, "email_off": email_off, "daily_summary": daily_summary}, at=at,
    )
    return preference


def daily_summaries_send(*, now: datetime | None = None) -> int:
    """One e-mail per person with the items that started waiting for their decision since
    their last summary (``EmailStatus.DAILY``). Each person's rows are claimed with
    ``SKIP LOCKED`` and marked sent in the transaction that sends them. Returns mails sent."""
    now = now or timezone.now()
    sent = 0
    recipients = (Notification.objects.filter(email_status=EmailStatus.DAILY)
                  .values_list("recipient_id", flat=True).distinct())
    for recipient_id in list(recipients):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related(*_MAIL_RELATED)
                .filter(recipient_id=recipient_id, email_status=EmailStatus.DAILY)
                .order_by("created_at", "pk")
            )
            if not rows:
                continue
            summary_email(rows[0].recipient, rows).send(fail_silently=False)
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
                email_status=EmailStatus.SENT, email_sent_at=now, attempts=1)
            sent += 1
    return sent
