"""What a head, the head above and the ops leaders are told when a delay is raised or
escalated: one notification per person per scan, however many risks it covers, so a bad
morning is one message, not five hundred."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma

from governance.models import DelayRisk, NotificationKind, User
from governance.services.notifications import Draft, notifications_create

MAX_LINES = 20


@dataclass(frozen=True)
class RiskNews:
    risk: DelayRisk
    new: bool
    old_level: int


def amount(value) -> str:
    return f"{settings.SRM_REPORTING_CURRENCY} {intcomma(f'{value:.2f}')}"


def _line(news: RiskNews, *, escalation: bool) -> str:
    risk = news.risk
    what = "new delay" if news.new else f"escalated from level {news.old_level}"
    owner = f" — {risk.department.name}, accountable: {risk.head}" if escalation else ""
    return (
        f"• {risk.request.reference} “{risk.step.name}”: level {risk.level} ({what}), "
        f"{risk.overdue_hours} business hours overdue, exposure {amount(risk.exposure)}{owner}"
    )


def _link(news: RiskNews) -> str:
    get_url = getattr(news.risk.request, "get_absolute_url", None)
    try:
        return get_url() if get_url else ""
    except Exception:  # the request pages are another area's; a missing route is no reason to fail
        return ""


def _draft(recipient: User, items: list[tuple[RiskNews, bool]]) -> Draft:
    escalation = any(esc for _, esc in items)
    total = sum((n.risk.exposure for n, _ in items), start=0)
    raised_only = all(n.new and not esc for n, esc in items)
    kind = NotificationKind.RISK_RAISED if raised_only else NotificationKind.RISK_ESCALATED
    if len(items) == 1:
        news = items[0][0]
        verb = "is overdue" if news.new else f"escalated to level {news.risk.level}"
        subject = f"{news.risk.request.reference} “{news.risk.step.name}” {verb}"
        link = _link(news)
    else:
        subject = f"{len(items)} delays need attention ({amount(total)} exposure)"
        link = ""
    intro = (
        "These delays reached level 3 and are escalated to you:"
        if escalation and not any(n.risk.head_id == recipient.pk for n, _ in items)
        else "These steps you are accountable for are overdue:"
    )
    lines = [_line(n, escalation=esc) for n, esc in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        lines.append(f"…and {len(items) - MAX_LINES} more.")
    body = "\n".join([intro, "", *lines, "", f"Total exposure: {amount(total)}."])
    return Draft(recipient=recipient, kind=kind, subject=subject, body=body, link=link)


def notify_risks(news: list[RiskNews], *, at: datetime) -> int:
    """Write the notifications for risks just raised or escalated (caller's transaction).

    The accountable head hears of every one; at level 3 the head of the parent department
    and every ops leader hear of it too."""
    per_person: dict[int, list[tuple[RiskNews, bool]]] = defaultdict(list)
    people: dict[int, User] = {}
    ops_leaders: list[User] | None = None
    for item in news:
        risk = item.risk
        if risk.head is not None:
            people[risk.head.pk] = risk.head
            per_person[risk.head.pk].append((item, False))
        if risk.level < 3 or (not item.new and item.old_level >= 3):
            continue
        if ops_leaders is None:
            ops_leaders = list(User.objects.filter(is_ops_leader=True, is_active=True))
        above = risk.department.parent.head if risk.department.parent_id else None
        told = {risk.head_id}
        for person in [above, *ops_leaders]:
            if person is None or person.pk in told:
                continue
            told.add(person.pk)
            people[person.pk] = person
            per_person[person.pk].append((item, True))
    drafts = [_draft(people[pk], items) for pk, items in per_person.items()]
    return len(notifications_create(drafts=drafts, at=at))
