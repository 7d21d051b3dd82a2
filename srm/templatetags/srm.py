"""Template helpers every page uses: times with relative hints, money and numbers, all in the
active language's one style (srm/formats/)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.dateformat import DateFormat
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from kit.i18n import amount_text, money_text

register = template.Library()


def span(delta: timedelta) -> str:
    """A duration in the words people use: "25 min", "3 h", "2 days"."""
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": max(minutes, 1)}
    hours = minutes // 60
    if hours < 48:
        return _("%(hours)s h") % {"hours": hours}
    days = hours // 24
    return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}


def due_hint(due_at: datetime | None, completed_at: datetime | None = None,
             now: datetime | None = None) -> tuple[str, str]:
    """(words, tone) for a due time: "due in 3 h" / "2 days overdue" while open,
    "on time" / "5 h late" once finished. Tone is one of ok, soon, late."""
    if due_at is None:
        return "", ""
    if completed_at is not None:
        if completed_at <= due_at:
            return _("on time"), "ok"
        return _("%(span)s late") % {"span": span(completed_at - due_at)}, "late"
    now = now or timezone.now()
    if due_at < now:
        return _("%(span)s overdue") % {"span": span(now - due_at)}, "late"
    left = due_at - now
    return _("due in %(span)s") % {"span": span(left)}, "soon" if left < timedelta(hours=4) else "ok"


_STYLES = {"datetime": "SHORT_DATETIME_FORMAT", "date": "SHORT_DATE_FORMAT", "time": "TIME_FORMAT",
           "long": "DATETIME_FORMAT"}


def _style(fmt: str) -> str:
    """The language's format for a style (``date``, ``datetime``, ``time``, ``long``). A
    format string (``"j M, H:i"``) is read as the style it asks for, so every page shows
    dates one way: with the year, in the 24-hour clock."""
    if fmt in _STYLES:
        return _STYLES[fmt]
    if any(c in fmt for c in "HGhgiaAP"):
        return _STYLES["datetime"] if any(c in fmt for c in "dDjYyMmnFNl") else _STYLES["time"]
    return _STYLES["date"]


# Separates the parts of one formatting pass (no date format writes it).
_PART = "\x1f"


def _formatted(value, *formats: str) -> list[str]:
    """``[date_filter(value, f) for f in formats]`` in one pass of the formatter: a page of
    rows writes three formats of each time (the title's two and the shown one)."""
    return DateFormat(value).format(_PART.join(get_format(f) for f in formats)).split(_PART)


@register.simple_tag
def when(value: datetime | None, fmt: str = "datetime"):
    """A machine-readable <time> in the viewer's timezone (the middleware activates it), in
    the active language's style (``fmt``: datetime, date, time or long)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):  # the title names the timezone: "9 Nov 2026, 17:41 CET"
        full, zone, shown = _formatted(timezone.localtime(value), "DATETIME_FORMAT", "T",
                                       _style(fmt))
        full = f"{full} {zone}"
    else:
        full, shown = _formatted(value, "DATE_FORMAT", _style(fmt))
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(),
                       full, shown)


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
    return _("%(span)s ago") % {"span": span(timezone.now() - value)}


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """An amount with its currency, placed as the language does: €6,500.00 / 6.500,00 €."""
    if value is None or value == "":
        return "—"
    return money_text(Decimal(value), currency or None)


@register.filter
def amount(value: Decimal | None) -> str:
    """An amount in a column whose heading names the currency: 6,500.00 / 6.500,00."""
    if value is None or value == "":
        return "—"
    return amount_text(Decimal(value))


@register.filter
def number(value, decimals: int = 2) -> str:
    """A figure with up to ``decimals`` decimals, none when it is whole: 2 / 2.5 / 1,234.75."""
    if value is None or value == "":
        return "—"
    return floatformat(value, f"-{int(decimals)}g")


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
    "request.submitted": pgettext_lazy("audit", "Submitted"),
    "request.in_approval": pgettext_lazy("audit", "Awaiting approval"),
    "request.in_progress": pgettext_lazy("audit", "Work started"),
    "request.fulfilled": pgettext_lazy("audit", "Fulfilled"),
    "request.rejected": pgettext_lazy("audit", "Rejected"),
    "request.cancelled": pgettext_lazy("audit", "Cancelled"),
    "step.activated": pgettext_lazy("audit", "Step started"),
    "step.approved": pgettext_lazy("audit", "Approved"),
    "step.rejected": pgettext_lazy("audit", "Rejected"),
    "step.done": pgettext_lazy("audit", "Done"),
    "step.cancelled": pgettext_lazy("audit", "Step cancelled"),
    "step.claimed": pgettext_lazy("audit", "Taken on"),
    "step.taken_over": pgettext_lazy("audit", "Taken over"),
    "request.actual_cost_recorded": pgettext_lazy("audit", "Actual cost recorded"),
    "request.back_to_finance": pgettext_lazy("audit", "Back to finance (actual cost)"),
}


@register.filter
def verb_label(verb: str) -> str:
    return str(_VERBS.get(verb, verb.replace(".", " ").replace("_", " ").capitalize()))
