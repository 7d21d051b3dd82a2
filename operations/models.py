"""The task outbox: a Celery task to send, written in the transaction of the change that
needs it, so a change and its follow-up work commit (or roll back) together, and a request
never waits on the broker (operations/outbox.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxTaskQuerySet(models.QuerySet):
    def due(self, now=None) -> OutboxTaskQuerySet:
        return self.filter(available_at__lte=now or timezone.now())


class OutboxTask(models.Model):
    """One task to publish. The row is deleted once the broker has accepted the message."""

    task = models.CharField(max_length=200, help_text=_("The Celery task's name."))
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True,
                                  help_text=_("The web request that asked for it (logs)."))
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now,
                                        help_text=_("Not published before (retry back-off)."))
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = OutboxTaskQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["available_at", "id"], name="outbox_task_due")]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


class Heartbeat(models.Model):
    """The last run of something an operator watches: the worker (a beat-scheduled no-op
    task), the delay scan, the outbox dispatcher. One row per name, overwritten."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()
    seconds = models.FloatField(default=0, help_text=_("How long the run took."))
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
