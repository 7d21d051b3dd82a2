"""What a head, the head above and the ops leaders are told when a delay is raised or
escalated: one notification per person per scan, however many risks it covers, so a bad
morning is one message, not five hundred. Recipients are worked out from ids; only the
risks a message actually lists (at most MAX_LINES each) are read in full."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from accountability.models import DelayRisk, NotificationKind
from accountability.services.notifications import Draft, notifications_create
from governance.models import Department, User
from kit.i18n import in_language_of, money_text

MAX_LINES = 20


@dataclass(frozen=True)
class RiskNews:
    risk_id: int
    head_id: int | None
    department_id: int
    level: int
    new: bool
    old_level: int
    exposure: Decimal


def amount(value) -> str:
    return money_text(value)


def _line(news: RiskNews, risk: DelayRisk, *, escalation: bool, seen: bool) -> str:
    what = (_("new delay") if news.new else
            _("escalated from level %(level)s") % {"level": news.old_level})
    owner = (" — " + _("%(department)s, accountable: %(head)s") % {
        "department": risk.department.name, "head": risk.head}
        if escalation or not seen else "")
    # A risk whose request the recipient may not open is told as a figure of the department.
    which = f"{risk.request.reference} “{risk.step.name}”" if seen else _("A step")
    return "• " + _("%(which)s: level %(level)s (%(what)s), %(hours)s business hours overdue, "
                    "exposure %(exposure)s") % {
        "which": which, "level": risk.level, "what": what, "hours": risk.overdue_hours,
        "exposure": amount(risk.exposure)} + owner


def _link(risk: DelayRisk, *, seen: bool) -> str:
    if not seen:
        return reverse("dashboard:department", args=[risk.department.code])
    get_url = getattr(risk.request, "get_absolute_url", None)
    try:
        return get_url() if get_url else ""
    except Exception:  # the request pages are another area's; a missing route is no reason to fail
        return ""


def _draft(recipient: User, items: list[tuple[RiskNews, bool]], risks: dict[int, DelayRisk],
           seen: set[int]) -> Draft:
    """The message for ``recipient``, written in their language and timezone."""
    with in_language_of(recipient):
        return _written_draft(recipient, items, risks, seen)


def _written_draft(recipient: User, items: list[tuple[RiskNews, bool]],
                   risks: dict[int, DelayRisk], seen: set[int]) -> Draft:
    escalation = any(esc for _, esc in items)
    total = sum((n.exposure for n, _ in items), start=Decimal("0"))
    raised_only = all(n.new and not esc for n, esc in items)
    kind = NotificationKind.RISK_RAISED if raised_only else NotificationKind.RISK_ESCALATED
    if len(items) == 1:
        news = items[0][0]
        risk = risks[news.risk_id]
        facts = {"reference": risk.request.reference, "step": risk.step.name,
                 "department": risk.department.name, "level": news.level}
        if risk.pk in seen:
            subject = (_("%(reference)s “%(step)s” is overdue") if news.new else
                       _("%(reference)s “%(step)s” escalated to level %(level)s")) % facts
        else:
            subject = (_("A delay in %(department)s is overdue") if news.new else
                       _("A delay in %(department)s escalated to level %(level)s")) % facts
        link = _link(risk, seen=risk.pk in seen)
    else:
        subject = _("%(count)s delays need attention (%(exposure)s exposure)") % {
            "count": len(items), "exposure": amount(total)}
        link = ""
    intro = (
        _("These delays reached level 3 and are escalated to you:")
        if escalation and not any(n.head_id == recipient.pk for n, _esc in items)
        else _("These steps you are accountable for are overdue:")
    )
    lines = [_line(n, risks[n.risk_id], escalation=esc, seen=n.risk_id in seen)
             for n, esc in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        lines.append(_("…and %(count)s more.") % {"count": len(items) - MAX_LINES})
    body = "\n".join([intro, "", *lines, "", _("Total exposure: %(exposure)s.") % {
        "exposure": amount(total)}])
    return Draft(recipient=recipient, kind=kind, subject=subject, body=body, link=link)


def notify_risks(news: list[RiskNews], *, at: datetime) -> int:
    """Write the notifications for risks just raised or escalated (caller's transaction).

    The accountable head hears of every one; at level 3 the head of the parent department
    and every ops leader hear of it too."""
    per_person: dict[int, list[tuple[RiskNews, bool]]] = defaultdict(list)
    head_above: dict[int, int | None] | None = None
    ops_leaders: list[int] = []
    for item in news:
        head = item.head_id
        if head is not None:
            per_person[head].append((item, False))
        if item.level < 3 or (not item.new and item.old_level >= 3):
            continue
        if head_above is None:
            head_above = dict(Department.objects.values_list("pk", "parent__head_id"))
            ops_leaders = list(User.objects.filter(is_ops_leader=True, is_active=True)
                               .values_list("pk", flat=True))
        # Each person once: the head above, then the ops leaders, never the head again.
        above = head_above.get(item.department_id)
        if above is not None and above != head:
            per_person[above].append((item, True))
        for person in ops_leaders:
            if person != head and person != above:
                per_person[person].append((item, True))
    if not per_person:
        return 0
    shown = {n.risk_id for items in per_person.values() for n, _ in items[:MAX_LINES]}
    risks = DelayRisk.objects.select_related("request", "step", "department", "head").in_bulk(shown)
    people = User.objects.in_bulk(per_person)
    # What each message may name: the risk rule, asked for every recipient in one query.
    seen = DelayRisk.objects.filter(pk__in=shown).seen_by(people.values())
    drafts = [_draft(people[pk], items, risks, seen[pk]) for pk, items in per_person.items()]
    return len(notifications_create(drafts=drafts, at=at))
