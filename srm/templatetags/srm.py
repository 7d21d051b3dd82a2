"""Template helpers every page uses: times with relative hints, money."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


def span(delta: timedelta) -> str:
    """A duration in the words people use: "25 min", "3 h", "2 days"."""
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days = hours // 24
    return f"{days} days"


def due_hint(due_at: datetime | None, completed_at: datetime | None = None,
             now: datetime | None = None) -> tuple[str, str]:
    """(words, tone) for a due time: "due in 3 h" / "2 days overdue" while open,
    "on time" / "5 h late" once finished. Tone is one of ok, soon, late."""
    if due_at is None:
        return "", ""
    if completed_at is not None:
        if completed_at <= due_at:
            return "on time", "ok"
        return f"{span(completed_at - due_at)} late", "late"
    now = now or timezone.now()
    if due_at < now:
        return f"{span(now - due_at)} overdue", "late"
    left = due_at - now
    return f"due in {span(left)}", "soon" if left < timedelta(hours=4) else "ok"


@register.simple_tag
def when(value: datetime | None, fmt: str = "j M Y, H:i"):
    """A machine-readable <time> in the viewer's timezone (the middleware activates it)."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(),
                       date_filter(local, "l j F Y, H:i T"), date_filter(local, fmt))


@register.simple_tag
def due(due_at: datetime | None, completed_at: datetime | None = None):
    words, tone = due_hint(due_at, completed_at)
    if not words:
        return ""
    return format_html('<span class="due due-{}">{}</span>', tone, words)


@register.simple_tag
def since(value: datetime | None):
    if value is None:
        return ""
    return f"{span(timezone.now() - value)} ago"


@register.filter
def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    amount = intcomma(f"{Decimal(value):.2f}")
    return f"{amount} {settings.SRM_REPORTING_CURRENCY}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def actions_for(obj, user) -> list[str]:
    """``{% with actions=step|actions_for:user %}``: what ``user`` may do to a step or a
    request now, from the model's ``allowed_actions`` (the services' own rules), so a page
    shows exactly the buttons the services accept."""
    if obj is None or user is None:
        return []
    return obj.allowed_actions(user)


_VERBS = {
    "request.submitted": "Submitted",
    "request.in_approval": "Awaiting approval",
    "request.in_progress": "Work started",
    "request.fulfilled": "Fulfilled",
    "request.rejected": "Rejected",
    "request.cancelled": "Cancelled",
    "step.activated": "Step started",
    "step.approved": "Approved",
    "step.rejected": "Rejected",
    "step.done": "Done",
    "step.cancelled": "Step cancelled",
    "step.claimed": "Taken on",
    "step.taken_over": "Taken over",
    "request.actual_cost_recorded": "Actual cost recorded",
    "request.back_to_finance": "Back to finance (actual cost)",
}


@register.filter
def verb_label(verb: str) -> str:
    return _VERBS.get(verb, verb.replace(".", " ").replace("_", " ").capitalize())
