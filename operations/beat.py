"""Celery beat's scheduler, with a sign of life: each tick (at least every few seconds, the
outbox dispatcher is due every ``SRM_OUTBOX_DISPATCH_SECONDS``) touches
``SRM_BEAT_ALIVE_FILE``, which ``manage.py healthcheck --beat`` reads. It proves this beat
process runs, whatever the broker or the workers do."""

from __future__ import annotations

from pathlib import Path

from celery.beat import PersistentScheduler
from django.conf import settings


class Scheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        path = Path(settings.SRM_BEAT_ALIVE_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return super().tick(*args, **kwargs)
