"""Marks of the last run of the things an operator watches (``/healthz/jobs``, metrics)."""

from __future__ import annotations

from django.utils import timezone

from operations.models import Heartbeat


def mark(name: str, *, seconds: float = 0.0, detail: dict | None = None) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"at": timezone.now(), "seconds": seconds, "detail": detail or {}})


def last() -> dict[str, Heartbeat]:
    return {h.name: h for h in Heartbeat.objects.all()}
