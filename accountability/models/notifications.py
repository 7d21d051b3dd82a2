"""The notification outbox: part of the organisation core, so it knows people, not risks.

A notification row is written in the same transaction as whatever it announces (a delay risk,
a digest), so it exists exactly when that change committed. Delivery by e-mail happens
afterwards, from the row: ``email_status`` and ``email_sent_at`` record it, ``attempts`` /
``last_error`` / ``next_attempt_at`` drive retries with backoff. The in-app list reads the same
rows (``read_at``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kit.rules import RestrictedQuerySet


class NotificationKind(models.TextChoices):
    RISK_RAISED = "risk_raised", _("Delay raised")
    RISK_ESCALATED = "risk_escalated", _("Delay escalated")
    DIGEST = "digest", _("Weekly digest")
    QUESTION = "question", _("Question for you")
    ANSWER = "answer", _("Answer to your question")
    REMINDER = "reminder", _("Reminder")
    COMMENT = "comment", _("New comment")
    PLAN = "plan", _("Change plan")
    # A request's lifecycle, for its requester; WAITING for whoever decides the next step.
    SUBMITTED = "submitted", _("Request submitted")
    APPROVED = "approved", _("Approval given")
    REJECTED = "rejected", _("Request rejected")
    FULFILLED = "fulfilled", _("Request fulfilled")
    CANCELLED = "cancelled", _("Request cancelled")
    WAITING = "waiting", _("Waiting for your decision")
    # Work an agent had taken on went back to the queue (they moved or left).
    RELEASED = "released", _("Work back in the queue")


# Always e-mailed: a delay one is accountable for, and a question that stops a request until
# its requester answers. Every other kind can be turned off per person (in-app stays on).
ALWAYS_EMAILED = frozenset({
    NotificationKind.RISK_RAISED, NotificationKind.RISK_ESCALATED,
    NotificationKind.QUESTION, NotificationKind.REMINDER,
})
# In the order the preferences page lists them: one's own requests first.
OPTIONAL_KINDS = [
    NotificationKind.SUBMITTED, NotificationKind.APPROVED, NotificationKind.REJECTED,
    NotificationKind.FULFILLED, NotificationKind.CANCELLED, NotificationKind.COMMENT,
    NotificationKind.ANSWER, NotificationKind.WAITING, NotificationKind.DIGEST,
    NotificationKind.PLAN, NotificationKind.RELEASED,
]


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")
    NO_ADDRESS = "no_address", _("No e-mail address")
    OFF = "off", _("Turned off by you")
    DAILY = "daily", _("In the daily summary")


class NotificationQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> NotificationQuerySet:
        """A notification is its recipient's alone, for every action."""
        if action not in {"view", "change"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def about(self, request) -> NotificationQuerySet:
        """The notifications that link to ``request``'s page."""
        return self.filter(link=request.get_absolute_url())

    def due_for_email(self, now=None) -> NotificationQuerySet:
        return self.filter(email_status=EmailStatus.PENDING, next_attempt_at__lte=now or timezone.now())


class Notification(models.Model):
    # Indexed by ``notification_recipient`` (recipient, created), which leads with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
        verbose_name=_("recipient"), db_index=False,
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices, verbose_name=_("kind"))
    subject = models.CharField(max_length=200, verbose_name=_("subject"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    link = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("A path inside SRM."),
        verbose_name=_("link"),
    )
    reply_to = models.CharField(
        max_length=200, blank=True,
        help_text=_("The e-mail's Reply-To: a step's signed reply address (deciding by reply)."),
        verbose_name=_("reply to"),
    )
    request = models.ForeignKey(
        "requests_app.ServiceRequest", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The request the notice is about: its e-mails form one conversation."),
        verbose_name=_("request"),
    )
    step = models.ForeignKey(
        "approvals.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The approval a “waiting for your decision” notice asks to decide: its "
        "e-mail carries the signed action links."),
        verbose_name=_("step"),
    )
    dedupe_key = models.CharField(
        max_length=120, null=True, blank=True, unique=True,
        help_text=_("Set for notifications that must exist once (a week's digest), so a job "
        "that runs twice writes it once."),
        verbose_name=_("dedupe key"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    email_status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING,
        verbose_name=_("email status"),
    )
    email_sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("email sent at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))

    objects = NotificationQuerySet.as_manager()

    class Meta:
        db_table = "governance_notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(email_status__in=EmailStatus.values), name="notification_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(email_status=EmailStatus.SENT) | Q(email_sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["next_attempt_at"], condition=Q(email_status=EmailStatus.PENDING),
                name="notification_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreferenceQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> NotificationPreferenceQuerySet:
        """A person's preferences are their own, for every action."""
        if action not in {"view", "change"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


class NotificationPreference(models.Model):
    """What a person wants by e-mail. In-app notifications are always written; the kinds in
    ``ALWAYS_EMAILED`` are e-mailed whatever this says. No row: everything by e-mail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_off = models.JSONField(
        default=list, blank=True, help_text=_("The notification kinds not sent by e-mail.")
    )
    daily_summary = models.BooleanField(
        default=False,
        help_text=_("Items waiting for my decision arrive in one e-mail a day, not one each."),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = NotificationPreferenceQuerySet.as_manager()

    def __str__(self) -> str:
        return f"E-mail preferences of {self.user_id}"

    def emails(self, kind: str) -> bool:
        return kind in ALWAYS_EMAILED or kind not in self.email_off


class EmailActionUse(models.Model):
    """An e-mail's action links were used: they decide once. One row per notification (its
    Approve, Reject and Ask links share it), written in the transaction of the decision, so a
    replayed link, or a second click racing the first, finds it and does nothing."""

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE,
                                        related_name="action_use")
    step = models.ForeignKey("approvals.Step", on_delete=models.CASCADE, related_name="+")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    action = models.CharField(max_length=16)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.action} on step {self.step_id} by {self.approver_id} at {self.used_at:%Y-%m-%d %H:%M}"
