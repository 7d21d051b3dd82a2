"""The accountability board, department pages and handoff view: where work is stuck, whose
it is and what it costs. Every figure is aggregated in SQL, grouped by department; Python
only merges one row per department (or per week / pair / catalog item), never per step.

Reads the lifecycle (``approvals.Step``, ``requests_app.ServiceRequest``) and the delay risks;
the lifecycle never imports this module. Definitions: docs/accountability.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Avg,
    CharField,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Coalesce, TruncWeek
from django.utils import timezone

from accountability.models import DelayPosting, DelayRisk
from accountability.scope import within
from approvals.choices import DECISIONS, DecisionChannel, StepKind, StepState
from approvals.models import Step
from governance.models import AuditEvent, Department
from governance.periods import local_date, quarter_start, reporting_tz, start_of, week_start
from governance.sqlstats import HoursBetween, hours, percentiles

# Flow figures (time in step, OLA breaches, handoffs) look at the last four weeks: recent
# enough to act on, and a bounded slice of the step table at any size.
FLOW_WINDOW = timedelta(days=28)
TREND_WEEKS = 12
OLDEST_DELAYED = 10
ZERO = Decimal("0.00")


def _steps():
    return Step.objects


def _closed_by_person():
    return [StepState.APPROVED, StepState.REJECTED, StepState.DONE]


@dataclass
class DepartmentLine:
    department: Department
    open_steps: int = 0
    overdue_steps: int = 0
    risks_by_level: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0})
    exposure: Decimal = ZERO
    accrued_this_quarter: Decimal = ZERO
    steps_completed: int = 0
    steps_breached: int = 0
    median_hours: Decimal | None = None
    p90_hours: Decimal | None = None
    median_ola_hours: Decimal | None = None
    handoffs_received: int = 0

    @property
    def open_risks(self) -> int:
        return sum(self.risks_by_level.values())

    @property
    def breach_share(self) -> Decimal | None:
        if not self.steps_completed:
            return None
        return hours(100 * self.steps_breached / self.steps_completed)


def _flow_steps(department_ids, since: datetime, *, everything: bool = False) -> QuerySet:
    steps = _steps().filter(
        completed_at__gte=since, activated_at__isnull=False, state__in=_closed_by_person(),
    )
    return within(steps, "accountable_department", department_ids, everything=everything)


def handoff_steps(*, since: datetime) -> QuerySet:
    """Steps activated since ``since`` annotated with the department of the step finished
    just before them on the same request (``from_department``): a handoff when it differs."""
    Step = _steps().model
    previous = (
        Step.objects.filter(request=OuterRef("request"), order__lt=OuterRef("order"),
                            completed_at__isnull=False, state__in=_closed_by_person())
        .order_by("-order").values("accountable_department")[:1]
    )
    return (
        _steps().filter(activated_at__gte=since)
        .annotate(from_department=Subquery(previous))
        .filter(from_department__isnull=False)
        .exclude(from_department=F("accountable_department"))
    )


def department_lines(departments: list[Department], *, now: datetime | None = None,
                     everything: bool = False, open_work: dict[int, dict] | None = None,
                     flow: dict[int, dict] | None = None,
                     accrued: dict[int, Decimal] | None = None) -> list[DepartmentLine]:
    """One line per department, ranked as a bottleneck list (exposure, then overdue steps).
    Seven grouped queries, whatever the number of departments, steps or risks — none when
    the open work (``open_work_figures``), the flow figures (``flow_figures``) and this
    quarter's accruals come stored (``open_work``, ``flow``, ``accrued``: see
    ``accountability.figures``)."""
    now = now or timezone.now()
    ids = [d.pk for d in departments]
    lines = {d.pk: DepartmentLine(department=d) for d in departments}

    if open_work is None:
        open_work = open_work_figures(ids, now=now, everything=everything)
    for pk, figures in open_work.items():
        if pk in lines:
            for name, value in figures.items():
                setattr(lines[pk], name, value)

    if accrued is None:
        accrued = accrued_this_quarter(ids, now=now, everything=everything)
    for pk, amount in accrued.items():
        if pk in lines:
            lines[pk].accrued_this_quarter = amount

    if flow is None:
        flow = flow_figures(ids, now=now, everything=everything)
    for pk, figures in flow.items():
        if pk in lines:
            for name, value in figures.items():
                setattr(lines[pk], name, value)

    return sorted(lines.values(),
                  key=lambda ln: (-ln.exposure, -ln.overdue_steps, ln.department.name))


OPEN_FIELDS = ("open_steps", "overdue_steps", "risks_by_level", "exposure")


def open_work_figures(ids, *, now: datetime, everything: bool = False) -> dict[int, dict]:
    """Per department, now: open and overdue steps, open delay risks by level and their
    exposure (``OPEN_FIELDS``). Two grouped queries; departments with nothing open are left
    out."""

    figures: dict[int, dict] = {}

    def of(pk) -> dict:
        return figures.setdefault(pk, {"open_steps": 0, "overdue_steps": 0,
                                       "risks_by_level": {1: 0, 2: 0, 3: 0}, "exposure": ZERO})

    active = _steps().filter(state=StepState.ACTIVE)
    for row in (within(active, "accountable_department", ids, everything=everything)
                .values("accountable_department").order_by()
                # Counting indexed columns, not ids: both partial indexes cover these two
                # queries, so PostgreSQL can answer from the index alone.
                .annotate(n=Count("*"), late=Count("due_at", filter=Q(due_at__lt=now)))):
        of(row["accountable_department"]).update(open_steps=row["n"], overdue_steps=row["late"])

    open_risks = DelayRisk.objects.filter(resolved_at__isnull=True)
    for row in (within(open_risks, "department", ids, everything=everything)
                .values("department").order_by()
                .annotate(l1=Count("level", filter=Q(level=1)),
                          l2=Count("level", filter=Q(level=2)),
                          l3=Count("level", filter=Q(level=3)), exposure=Sum("exposure"))):
        of(row["department"]).update(risks_by_level={1: row["l1"], 2: row["l2"], 3: row["l3"]},
                                     exposure=row["exposure"] or ZERO)
    return figures


def accrued_this_quarter(ids, *, now: datetime, everything: bool = False) -> dict[int, Decimal]:
    """Cost of delay posted to this quarter so far (adjustments included), per department of
    the late step: the quarterly report's total for the current quarter."""
    postings = DelayPosting.objects.filter(quarter=quarter_start(local_date(now)))
    return {
        row["department"]: row["amount"] or ZERO
        for row in within(postings, "department", ids, everything=everything)
        .values("department").order_by().annotate(amount=Sum("amount"))
    }


@dataclass(frozen=True)
class HeadCost:
    head_id: int | None
    name: str
    amount: Decimal

    def __str__(self) -> str:
        return self.name


def delay_cost_by_head(department: Department, *, now: datetime | None = None
                       ) -> list[HeadCost]:
    """The department's cost of delay posted to the quarter of ``now`` (adjustments
    included), per head charged, in one query: a delay that changed hands shows each head's
    part, as posted while they were accountable. Highest first; they add up to the
    department's "accrued this quarter"."""
    rows = (DelayPosting.objects
            .filter(department=department, quarter=quarter_start(local_date(now or timezone.now())))
            .values("head", "head__username", "head__first_name", "head__last_name")
            .order_by().annotate(amount=Sum("amount")))
    costs = [HeadCost(row["head"], (f"{row['head__first_name']} {row['head__last_name']}".strip()
                                    or row["head__username"] or "—"), row["amount"])
             for row in rows]
    return sorted(costs, key=lambda cost: (-cost.amount, cost.name))


FLOW_FIELDS = ("steps_completed", "steps_breached", "median_hours", "p90_hours",
               "median_ola_hours", "handoffs_received")


def flow_figures(ids, *, now: datetime, everything: bool = False) -> dict[int, dict]:
    """Per department, over the flow window ending at ``now``: steps completed and breached,
    median and p90 hours in step, median OLA, handoffs received (``FLOW_FIELDS``). Four
    grouped queries; departments without any flow are left out."""
    since = now - FLOW_WINDOW
    figures: dict[int, dict] = {}

    def of(pk) -> dict:
        return figures.setdefault(pk, {name: None for name in FLOW_FIELDS}
                                  | {"steps_completed": 0, "steps_breached": 0,
                                     "handoffs_received": 0})

    flow = _flow_steps(ids, since, everything=everything)
    for row in (flow.values("accountable_department").order_by()
                .annotate(n=Count("pk"), late=Count("pk", filter=Q(completed_at__gt=F("due_at"))))):
        line = of(row["accountable_department"])
        line["steps_completed"], line["steps_breached"] = row["n"], row["late"]
    in_step = percentiles(flow, group_by=["accountable_department"],
                          value=HoursBetween("activated_at", "completed_at"))
    ola = percentiles(flow, group_by=["accountable_department"],
                      value=HoursBetween("activated_at", "due_at"), fractions=(0.5,))
    for (pk,), values in in_step.items():
        of(pk).update(median_hours=hours(values[0.5]), p90_hours=hours(values[0.9]))
    for (pk,), values in ola.items():
        of(pk)["median_ola_hours"] = hours(values[0.5])

    received = within(handoff_steps(since=since), "accountable_department", ids,
                      everything=everything)
    for row in (received.values("accountable_department").order_by().annotate(n=Count("pk"))):
        of(row["accountable_department"])["handoffs_received"] = row["n"]
    return figures


# --- Department page ---------------------------------------------------------------------------
@dataclass
class WeekRow:
    week: date
    steps_completed: int = 0
    steps_breached: int = 0
    median_hours: Decimal | None = None
    risks_detected: int = 0
    exposure_detected: Decimal = ZERO


def trend_weeks(*, now: datetime | None = None, weeks: int = TREND_WEEKS) -> list[date]:
    """The Mondays of the last ``weeks`` weeks (the current one included), oldest first."""
    first = week_start(local_date(now or timezone.now())) - timedelta(weeks=weeks - 1)
    return [first + timedelta(weeks=n) for n in range(weeks)]


def weekly_trend(department: Department, *, now: datetime | None = None,
                 weeks: int = TREND_WEEKS) -> list[WeekRow]:
    """The department's last ``weeks`` weeks (the current one included, Monday starts in the
    reporting timezone): steps completed, OLA breaches, median time in step, and the delay
    risks detected that week with their exposure so far."""
    found = weekly_figures([department.pk], now=now, weeks=weeks).get(department.pk, {})
    return [found.get(week) or WeekRow(week=week) for week in trend_weeks(now=now, weeks=weeks)]


def weekly_figures(ids, *, now: datetime | None = None, weeks: int = TREND_WEEKS,
                   everything: bool = False) -> dict[int, dict[date, WeekRow]]:
    """``weekly_trend`` for many departments at once: ``{department: {week: WeekRow}}``,
    weeks without anything left out. Three grouped queries."""
    now = now or timezone.now()
    wanted = set(trend_weeks(now=now, weeks=weeks))
    since = start_of(min(wanted))
    tz = reporting_tz()
    rows: dict[int, dict[date, WeekRow]] = {}

    def cell(pk, value) -> WeekRow | None:
        week = value.astimezone(tz).date() if isinstance(value, datetime) else value
        if week not in wanted:
            return None
        return rows.setdefault(pk, {}).setdefault(week, WeekRow(week=week))

    flow = _flow_steps(ids, since, everything=everything).annotate(
        week=TruncWeek("completed_at", tzinfo=tz))
    for row in (flow.values("accountable_department", "week").order_by()
                .annotate(n=Count("pk"), late=Count("pk", filter=Q(completed_at__gt=F("due_at"))))):
        if week := cell(row["accountable_department"], row["week"]):
            week.steps_completed, week.steps_breached = row["n"], row["late"]
    for (pk, key), values in percentiles(flow, group_by=["accountable_department", "week"],
                                         value=HoursBetween("activated_at", "completed_at"),
                                         fractions=(0.5,)).items():
        if week := cell(pk, key):
            week.median_hours = hours(values[0.5])
    risks = within(DelayRisk.objects.filter(detected_at__gte=since), "department", ids,
                   everything=everything)
    for row in (risks.annotate(week=TruncWeek("detected_at", tzinfo=tz))
                .values("department", "week").order_by()
                .annotate(n=Count("pk"), exposure=Sum("exposure"))):
        if week := cell(row["department"], row["week"]):
            week.risks_detected, week.exposure_detected = row["n"], row["exposure"] or ZERO
    return rows


def oldest_delays(department: Department, *, user, limit: int = OLDEST_DELAYED
                  ) -> QuerySet[DelayRisk]:
    """The department's open delay risks, oldest first, with the request and accountable head
    — those the risk rule shows ``user`` (``DelayRisk.objects.restrict``: the risks of
    requests ``user`` may open), since the list names them. A head of a parent department
    counts the delays of the departments below in the figures, but sees their requests only
    where the request rule lets them."""

    return (
        DelayRisk.objects.restrict(user).filter(department=department, resolved_at__isnull=True)
        .select_related("request", "request__item", "step", "head", "previous_head")
        .order_by("detected_at", "pk")[:limit]
    )


def waiting_and_working(department: Department, *, now: datetime | None = None,
                        window: timedelta = timedelta(weeks=TREND_WEEKS)) -> list[dict]:
    """Per catalog item, for the department's steps completed within ``window``: average
    hours waiting (active, nobody had taken it on) and working (taken on until completed).

    A step is taken on at its first ``step.claimed`` audit event; a step completed without
    a claim (every approval, and work done straight away) was waiting all along, since the
    action itself is the only moment anyone touched it."""
    return item_time_figures([department.pk], now=now, window=window)


def item_time_figures(ids, *, now: datetime | None = None,
                      window: timedelta = timedelta(weeks=TREND_WEEKS),
                      everything: bool = False) -> list[dict]:
    """``waiting_and_working`` for many departments at once, one row per (department, item):
    ``accountable_department``, ``request__item``, ``request__item__name``, ``steps``,
    ``waiting_hours``, ``working_hours``; longest waits first. One grouped query."""

    now = now or timezone.now()
    claimed = (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Step),
            object_id=Cast(OuterRef("pk"), CharField()),
            verb="step.claimed",
        ).order_by("created_at").values("created_at")[:1]
    )
    taken = Coalesce(Subquery(claimed), F("completed_at"))
    return list(
        _flow_steps(ids, now - window, everything=everything)
        .annotate(waiting=HoursBetween("activated_at", taken),
                  working=HoursBetween(taken, "completed_at"))
        .values("accountable_department", "request__item", "request__item__name").order_by()
        .annotate(steps=Count("pk"), waiting_hours=Avg("waiting"), working_hours=Avg("working"))
        .order_by("-waiting_hours", "request__item__name")
    )


@dataclass
class HandoffPair:
    from_department: Department
    to_department: Department
    count: int
    median_dwell_hours: Decimal | None


def handoff_pairs(department_ids: set[int], *, now: datetime | None = None,
                  everything: bool = False) -> list[HandoffPair]:
    """Pairs of departments handing work to each other in the flow window, counted on the
    receiving step; dwell = how long the receiving step stayed active (until now while it
    still is). Only pairs whose receiving department is in ``department_ids``."""
    now = now or timezone.now()
    steps = within(handoff_steps(since=now - FLOW_WINDOW), "accountable_department",
                   department_ids, everything=everything)
    counts = {
        (row["from_department"], row["accountable_department"]): row["n"]
        for row in steps.values("from_department", "accountable_department").order_by()
        .annotate(n=Count("pk"))
    }
    dwell = percentiles(
        steps, group_by=["from_department", "accountable_department"],
        value=HoursBetween("activated_at", Coalesce("completed_at", _now_value(now))),
        fractions=(0.5,),
    )
    names = Department.objects.in_bulk({pk for pair in counts for pk in pair})
    pairs = [
        HandoffPair(from_department=names[a], to_department=names[b], count=n,
                    median_dwell_hours=hours(dwell.get((a, b), {}).get(0.5)))
        for (a, b), n in counts.items()
    ]
    return sorted(pairs, key=lambda p: (-(p.median_dwell_hours or 0), -p.count))


def _now_value(now: datetime):
    from django.db.models import DateTimeField, Value

    return Value(now, output_field=DateTimeField())


@dataclass(frozen=True)
class ChannelCount:
    channel: str
    label: str
    decisions: int


def decisions_by_channel(department_ids, *, now: datetime | None = None,
                         everything: bool = False) -> list[ChannelCount]:
    """Approval decisions of the flow window by where they were taken (page, e-mail link,
    e-mail reply, API), in one grouped query on the steps' (state, completed_at) index.
    Decisions recorded as taken outside the tool are not among them (the change plans count
    that bypass), nor decisions from before channels were recorded."""
    since = (now or timezone.now()) - FLOW_WINDOW
    steps = within(_steps().filter(kind=StepKind.APPROVAL, state__in=DECISIONS,
                                   completed_at__gte=since, decided_outside=False),
                   "accountable_department", department_ids, everything=everything)
    counts = dict(steps.exclude(channel="").order_by().values("channel")
                  .annotate(n=Count("pk")).values_list("channel", "n"))
    return [ChannelCount(value, str(label), counts.get(value, 0))
            for value, label in DecisionChannel.choices]
