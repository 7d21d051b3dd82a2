"""The weekly governance digests: to every department head, their open delays, exposure,
oldest delays and the steps falling due soon; to every ops leader, the top bottlenecks
across departments. Aggregated in SQL (a fixed number of queries, whatever the size of the
organisation); written as notifications with a per-week key, so running it twice in a week
sends nothing new."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Avg, Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accountability.models import DelayRisk, Notification, NotificationKind
from accountability.services.notifications import Draft, notifications_create
from accountability.services.risk_messages import amount
from approvals.choices import StepState
from approvals.models import Step
from governance.models import Department, User
from kit.i18n import in_language_of

TOP = 5
DUE_SOON = timedelta(days=2)
BOTTLENECKS = 10


@dataclass
class DigestResult:
    heads: int = 0
    ops_leaders: int = 0
    written: int = 0


def _week(now: datetime) -> str:
    year, week, _day = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def _top_per_department(queryset, *, department: str, order):
    """The first TOP rows of each department, in one query."""
    return queryset.annotate(
        rank=Window(RowNumber(), partition_by=F(department), order_by=order)
    ).filter(rank__lte=TOP)


def _named(risk: DelayRisk, seen: bool) -> str:
    return f"{risk.request.reference} “{risk.step.name}”" if seen else _("A step")


def _head_drafts(now: datetime, week: str) -> list[Draft]:
    departments = list(Department.objects.exclude(head=None).select_related("head"))
    open_risks = DelayRisk.objects.open()
    totals = {
        row["department_id"]: row
        for row in open_risks.values("department_id").annotate(
            n=Count("id"), exposure=Sum("exposure"), critical=Count("id", filter=Q(level=3)))
    }
    oldest = defaultdict(list)
    for risk in _top_per_department(
        open_risks.select_related("request", "step"), department="department_id",
        order=F("step__due_at").asc(),
    ):
        oldest[risk.department_id].append(risk)
    soon = defaultdict(list)
    due_soon = Step.objects.filter(
        state=StepState.ACTIVE, due_at__gte=now, due_at__lt=now + DUE_SOON
    ).select_related("request")
    soon_counts = dict(due_soon.values_list("accountable_department_id").annotate(n=Count("id"))
                       .order_by())
    for step in _top_per_department(due_soon, department="accountable_department_id",
                                   order=F("due_at").asc()):
        soon[step.accountable_department_id].append(step)

    by_head: dict[int, list[Department]] = defaultdict(list)
    heads: dict[int, User] = {}
    for department in departments:
        by_head[department.head_id].append(department)
        heads[department.head_id] = department.head
    # The lines name requests: only those the risk rule shows the head (one query for all).
    listed = [r.pk for risks in oldest.values() for r in risks]
    seen_by = (DelayRisk.objects.filter(pk__in=listed).seen_by(heads.values())
               if listed else {})
    drafts = []
    for head_id, led in by_head.items():
        with in_language_of(heads[head_id]):
            drafts.append(_head_draft(heads[head_id], led, week=week, totals=totals,
                                      oldest=oldest, soon=soon, soon_counts=soon_counts,
                                      seen=seen_by.get(head_id, set())))
    return drafts


def _head_draft(head: User, led: list[Department], *, week: str, totals, oldest, soon,
                soon_counts, seen) -> Draft:
    """One head's digest, in their language and timezone."""
    lines, n_total, exposure_total = [], 0, 0
    for department in led:
        t = totals.get(department.pk, {"n": 0, "exposure": 0, "critical": 0})
        n_total += t["n"]
        exposure_total += t["exposure"] or 0
        lines.append(_("%(department)s: %(count)s open delay(s), %(critical)s at level 3, "
                       "exposure %(exposure)s.") % {
            "department": department.name, "count": t["n"], "critical": t["critical"],
            "exposure": amount(t["exposure"] or 0)})
        if oldest[department.pk]:
            lines.append("  " + _("Oldest delays:"))
            lines += ["  • " + _("%(which)s: level %(level)s, %(hours)s h overdue, "
                                 "%(exposure)s") % {
                "which": _named(r, r.pk in seen), "level": r.level,
                "hours": r.overdue_hours, "exposure": amount(r.exposure)}
                for r in oldest[department.pk]]
        if soon[department.pk]:
            lines.append("  " + _("Due in the next two days (%(count)s):") % {
                "count": soon_counts.get(department.pk, 0)})
            lines += ["  • " + _("%(reference)s “%(step)s”, due %(due)s") % {
                "reference": s.request.reference, "step": s.name,
                "due": date_format(timezone.localtime(s.due_at, department.calendar.tz),
                                   "D d M H:i")}
                for s in soon[department.pk]]
    subject = (_("Weekly delays: %(count)s open, %(exposure)s exposure") % {
        "count": n_total, "exposure": amount(exposure_total)}
        if n_total else _("Weekly delays: nothing overdue"))
    return Draft(
        recipient=head, kind=NotificationKind.DIGEST, subject=subject,
        body="\n".join(lines), dedupe_key=f"digest:head:{head.pk}:{week}",
    )


def _ops_drafts(week: str) -> list[Draft]:
    leaders = list(User.objects.filter(is_ops_leader=True, is_active=True))
    if not leaders:
        return []
    ranked = list(
        DelayRisk.objects.open().values("department__name", "department__head__username")
        .annotate(n=Count("id"), exposure=Sum("exposure"), critical=Count("id", filter=Q(level=3)),
                  avg_hours=Avg("overdue_hours"))
        .order_by("-exposure", "-n")[:BOTTLENECKS]
    )
    overall = DelayRisk.objects.open().aggregate(n=Count("id"), exposure=Sum("exposure"))
    drafts = []
    for leader in leaders:
        with in_language_of(leader):
            lines = [_("Open delays: %(count)s, exposure %(exposure)s.") % {
                "count": overall["n"], "exposure": amount(overall["exposure"] or 0)}, ""]
            if ranked:
                lines.append(_("Top bottlenecks by exposure:"))
                lines += [
                    f"{i}. " + _("%(department)s (%(head)s): %(count)s open, %(critical)s at "
                                 "level 3, %(exposure)s, average %(hours)s h overdue") % {
                        "department": row["department__name"],
                        "head": row["department__head__username"] or _("no head"),
                        "count": row["n"], "critical": row["critical"],
                        "exposure": amount(row["exposure"]),
                        "hours": f"{row['avg_hours']:.1f}"}
                    for i, row in enumerate(ranked, 1)
                ]
            subject = _("Weekly bottlenecks: %(count)s open delays, %(exposure)s") % {
                "count": overall["n"], "exposure": amount(overall["exposure"] or 0)}
        drafts.append(Draft(recipient=leader, kind=NotificationKind.DIGEST, subject=subject,
                            body="\n".join(lines), dedupe_key=f"digest:ops:{leader.pk}:{week}"))
    return drafts


@transaction.atomic
def digests_send(*, now: datetime | None = None) -> DigestResult:
    """Write this week's digests (once per person per ISO week) and deliver them."""
    now = now or timezone.now()
    week = _week(now)
    heads, ops = _head_drafts(now, week), _ops_drafts(week)
    existing = set(Notification.objects.filter(
        dedupe_key__in=[d.dedupe_key for d in heads + ops]
    ).values_list("dedupe_key", flat=True))
    fresh = [d for d in heads + ops if d.dedupe_key not in existing]
    notifications_create(drafts=fresh, at=now)
    return DigestResult(heads=len(heads), ops_leaders=len(ops), written=len(fresh))
