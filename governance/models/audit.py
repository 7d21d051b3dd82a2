from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kit.rules import RestrictedQuerySet


class AuditEventQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view", *, about=None) -> AuditEventQuerySet:
        """The one visibility rule for audit events.

        Without ``about``: the whole trail, for ops leaders and superusers only. With
        ``about`` (a request, a change plan: any object with ``audit_correlation`` and
        ``audit_access(user)``): its events, when ``user`` may see the object itself; events
        about internal notes (``data.internal``) only for those who may read the notes
        (the request's ``internal`` rule), never for the requester.
        """
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if about is None:
            return self if (user.is_superuser or user.is_ops_leader) else self.none()
        may_view, may_read_internal = about.audit_access(user)
        if not may_view:
            return self.none()
        key = about.audit_correlation
        if may_read_internal:
            # Releases before 1.1 gave internal notes' events their own correlation.
            return self.filter(Q(correlation=key) | Q(correlation=f"{key}#internal"))
        # Not exclude(data__internal=True): a row without the key would compare NULL, and
        # NOT NULL drops it too.
        return self.filter(correlation=key).filter(
            Q(data__internal__isnull=True) | Q(data__internal=False))


class AuditEvent(models.Model):
    """An append-only, hash-chained record of one state change or action, written in the same
    transaction.

    ``correlation`` groups the events of one business object across models (a request's
    reference gathers the request's own events and those of its steps into one timeline).
    """

    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("actor"),
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Set when a delegate acted for someone else."),
        verbose_name=_("on behalf of"),
    )
    verb = models.CharField(max_length=64, verbose_name=_("verb"))
    # Indexed by (content type, object, created) below, which leads with it.
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("content type"),
        db_index=False,
    )
    object_id = models.CharField(max_length=64, verbose_name=_("object ID"))
    object_repr = models.CharField(max_length=200, verbose_name=_("object repr"))
    correlation = models.CharField(max_length=40, blank=True, verbose_name=_("correlation"))
    from_state = models.CharField(max_length=32, blank=True, verbose_name=_("from state"))
    to_state = models.CharField(max_length=32, blank=True, verbose_name=_("to state"))
    data = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        verbose_name=_("data"),
    )
    # The hash chain (PostgreSQL; docs/architecture.md, "The audit trail"): written by the
    # database's BEFORE INSERT trigger, never by Python. Each event is the ``chain_seq``-th
    # of its correlation's chain; ``hash`` = SHA-256 over ``prev_hash`` (the hash of the
    # previous event of the chain, "" for the first) and the event's content.
    chain_seq = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("chain seq"),
    )
    prev_hash = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        verbose_name=_("prev hash"),
    )
    hash = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        verbose_name=_("hash"),
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"]),
            models.Index(fields=["correlation", "created_at"]),
            # ``verify_audit`` walks each correlation's chain in order.
            models.Index(fields=["correlation", "chain_seq"], name="audit_chain"),
            models.Index(fields=["created_at"]),
            models.Index(fields=["verb", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """The last link of one correlation's chain (PostgreSQL; written only by the audit
    trail's BEFORE INSERT trigger).

    The trigger locks this row to extend the chain, so two writers of one chain queue while
    writers of different chains do not. A row lock lives in the row itself, so one
    transaction may extend any number of chains (a delay scan raising 20,000 risks, a head
    change moving a department's open steps); a lock per chain in PostgreSQL's shared lock
    table ran out of memory at a few thousand. ``verify_audit`` checks each head against the
    last event of its chain, so an event deleted from the end of a chain shows too.
    """

    correlation = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "governance_auditchainhead"

    def __str__(self) -> str:
        return f"{self.correlation or '(none)'} #{self.seq}"
