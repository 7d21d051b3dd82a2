"""Mail that came in on the reply address: one row per message, by its Message-ID, so a
message delivered twice (a mailbox polled again, a provider retrying its webhook) decides
nothing twice. The row keeps what SRM made of it and the short answer it sent back."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kit.rules import RestrictedQuerySet


class InboundOutcome(models.TextChoices):
    DECIDED = "decided", _("Decided")
    REFUSED = "refused", _("Refused")
    IGNORED = "ignored", _("Ignored")


class InboundDoor(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    WEBHOOK = "webhook", _("Provider webhook")


class AnswerStatus(models.TextChoices):
    NONE = "none", _("Not answered")
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")


class ReplyReason(models.TextChoices):
    """Why a message was decided on, refused or ignored (besides the approval services' own
    error codes, which a refused decision keeps: ``not_decider``, ``separation_of_duties``…)."""

    DECIDED = "decided", _("Decided")
    AUTO_REPLY = "auto_reply", _("Automatic mail")
    LOOP = "loop", _("Mail from SRM itself")
    NOT_A_REPLY = "not_a_reply", _("No reply address of SRM")
    INVALID_TOKEN = "invalid_token", _("Reply address not made by SRM")
    NOT_AUTHENTICATED = "not_authenticated", _("Sender not vouched for by the receiving server")
    STALE = "stale", _("The step has moved on")
    WRONG_SENDER = "wrong_sender", _("Not from the approver or their delegate")
    UNREADABLE = "unreadable", _("No decision on the first line")


class InboundMessageQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> InboundMessageQuerySet:
        """Ops leaders see every message; anyone else those they sent as a decider."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.is_ops_leader:
            return self
        return self.filter(actor=user)


class InboundMessage(models.Model):
    message_id = models.CharField(max_length=255, unique=True, verbose_name=_("message ID"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    door = models.CharField(max_length=16, choices=InboundDoor.choices, verbose_name=_("door"))
    sender = models.CharField(
        max_length=254,
        blank=True,
        help_text=_("The From address."),
        verbose_name=_("sender"),
    )
    subject = models.CharField(max_length=200, blank=True, verbose_name=_("subject"))
    step = models.ForeignKey("approvals.Step", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("step"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              help_text=_("The person the sender was found to be."),
                              verbose_name=_("actor"))
    action = models.CharField(
        max_length=16,
        blank=True,
        help_text=_("What the reply asked for."),
        verbose_name=_("action"),
    )
    outcome = models.CharField(
        max_length=16,
        choices=InboundOutcome.choices,
        verbose_name=_("outcome"),
    )
    reason = models.CharField(
        max_length=64,
        help_text=_("Why, as a stable code."),
        verbose_name=_("reason"),
    )
    detail = models.TextField(blank=True, verbose_name=_("detail"))
    answer_status = models.CharField(max_length=16, choices=AnswerStatus.choices,
                                     default=AnswerStatus.NONE, verbose_name=_("answer status"))
    answer_to = models.CharField(max_length=254, blank=True, verbose_name=_("answer to"))
    answer_subject = models.CharField(max_length=200, blank=True, verbose_name=_("answer subject"))
    answer_body = models.TextField(blank=True, verbose_name=_("answer body"))
    answer_references = models.TextField(blank=True, verbose_name=_("answer references"))
    answer_attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("answer attempts"))
    answer_error = models.TextField(blank=True, verbose_name=_("answer error"))
    answer_sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answer sent at"))

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=InboundOutcome.values),
                                   name="inbound_outcome_valid"),
            models.CheckConstraint(condition=Q(answer_status__in=AnswerStatus.values),
                                   name="inbound_answer_status_valid"),
        ]
        indexes = [
            models.Index(fields=["received_at"], condition=Q(answer_status=AnswerStatus.PENDING),
                         name="inbound_answer_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} from {self.sender}: {self.outcome} ({self.reason})"
