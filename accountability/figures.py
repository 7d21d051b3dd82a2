"""The accountability pages' stored figures: computed for every department at once by the
grouped queries in ``board`` and ``report``, written to the ``*Figures`` tables, and read back
by the pages and the API in a handful of indexed queries whatever the size of the lifecycle.

Freshness. Each family of figures carries a stamp (``FiguresStamp``): the moment it
describes. The ``refresh_figures`` job (Celery beat, every ``SRM_FIGURES_REFRESH_SECONDS``)
recomputes the board's window, the weekly trends, the waiting/working split, the handoffs and
the current (and, until a week after its ledger quarter closed, the previous) quarter. A page that finds its
family older than ``SRM_FIGURES_MAX_AGE`` seconds — the job is not running, or never ran —
recomputes it before answering, under a row lock on the stamp so concurrent readers compute
it once. A quarter whose figures were computed after it closed (the cost-of-delay ledger's
closing rule, ``services.ledger.closes_at``: nothing can post into it any more) is final and
never recomputed (``refresh_figures --all`` rebuilds everything, e.g. after a
correction to past data).

The numbers are those of the live functions (``department_lines``, ``weekly_trend``,
``waiting_and_working``, ``handoff_pairs``, ``quarterly_report``) at the stamp's moment: the
tests check both paths give the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accountability import board, report
from accountability.models.figures import (
    FiguresStamp,
    FlowFigures,
    HandoffFigures,
    ItemTimeFigures,
    OpenWorkFigures,
    QuarterFigures,
    WeekFigures,
)
from accountability.scope import within
from accountability.services.ledger import closes_at
from governance.models import Department
from governance.periods import last_quarters, local_date, next_quarter, quarter_start
from requests_app.models import ServiceRequest

NEVER = datetime(2000, 1, 1, tzinfo=UTC)
# The job recomputes the previous quarter until this long after it closed.
SETTLING = timedelta(days=7)


def _quarter_key(quarter: date) -> str:
    return f"quarter:{quarter.isoformat()}"


def _settled(quarter: date, computed_at: datetime) -> bool:
    """Computed once its ledger quarter had closed: nothing can post into it any more."""
    return computed_at >= closes_at(quarter)


def _fresh(stamp: FiguresStamp | None, now: datetime) -> bool:
    if stamp is None or stamp.computed_at == NEVER:
        return False
    if stamp.key.startswith("quarter:") and _settled(date.fromisoformat(stamp.key[8:]),
                                                     stamp.computed_at):
        return True
    max_age = (settings.SRM_FIGURES_OPEN_MAX_AGE if stamp.key == "open"
               else settings.SRM_FIGURES_MAX_AGE)
    return stamp.computed_at >= now - timedelta(seconds=max_age)


# --- computing and storing ---------------------------------------------------------------------
def _store_open(now: datetime) -> None:
    figures = board.open_work_figures([], now=now, everything=True)
    OpenWorkFigures.objects.all().delete()
    OpenWorkFigures.objects.bulk_create(
        OpenWorkFigures(department_id=pk, open_steps=f["open_steps"],
                        overdue_steps=f["overdue_steps"], risks_l1=f["risks_by_level"][1],
                        risks_l2=f["risks_by_level"][2], risks_l3=f["risks_by_level"][3],
                        exposure=f["exposure"])
        for pk, f in figures.items())


def _store_flow(now: datetime) -> None:
    figures = board.flow_figures([], now=now, everything=True)
    FlowFigures.objects.all().delete()
    FlowFigures.objects.bulk_create(
        FlowFigures(department_id=pk, **values) for pk, values in figures.items())


def _store_weeks(now: datetime) -> None:
    rows = board.weekly_figures([], now=now, everything=True)
    WeekFigures.objects.all().delete()
    WeekFigures.objects.bulk_create(
        WeekFigures(department_id=pk, week=w.week, steps_completed=w.steps_completed,
                    steps_breached=w.steps_breached, median_hours=w.median_hours,
                    risks_detected=w.risks_detected, exposure_detected=w.exposure_detected)
        for pk, weeks in rows.items() for w in weeks.values())


def _store_items(now: datetime) -> None:
    rows = board.item_time_figures([], now=now, everything=True)
    ItemTimeFigures.objects.all().delete()
    ItemTimeFigures.objects.bulk_create(
        ItemTimeFigures(department_id=row["accountable_department"], item_id=row["request__item"],
                        steps=row["steps"], waiting_hours=row["waiting_hours"],
                        working_hours=row["working_hours"])
        for row in rows)


def _store_handoffs(now: datetime) -> None:
    pairs = board.handoff_pairs(set(), now=now, everything=True)
    HandoffFigures.objects.all().delete()
    HandoffFigures.objects.bulk_create(
        HandoffFigures(from_department=p.from_department, to_department=p.to_department,
                       count=p.count, median_dwell_hours=p.median_dwell_hours)
        for p in pairs)


def _store_quarters(quarters: list[date]) -> Callable[[datetime], None]:
    def store(now: datetime) -> None:
        cells = report.quarter_cells(sorted(quarters), [], everything=True)
        QuarterFigures.objects.filter(quarter__in=quarters).delete()
        QuarterFigures.objects.bulk_create(
            QuarterFigures(quarter=quarter, department_id=pk, submitted=row.submitted,
                           approved_spend=row.approved_spend,
                           fulfilled_spend=row.fulfilled_spend,
                           cost_of_delay=row.cost_of_delay,
                           delay_adjustments=row.delay_adjustments, fulfilled=row.fulfilled,
                           on_time=row.on_time)
            for (quarter, pk), row in cells.items())
    return store


# Every family but the quarters (stored per quarter), by its stamp's key.
STORES: dict[str, Callable[[datetime], None]] = {
    "open": _store_open, "flow": _store_flow, "weeks": _store_weeks, "items": _store_items,
    "handoffs": _store_handoffs,
}


def _refresh(keys: list[str], store: Callable[[datetime], None], now: datetime, *,
             force: bool = False) -> datetime:
    """Recompute the figures behind ``keys`` in one go, unless they are all fresh (or were
    refreshed while we waited for their locks); returns the oldest moment they describe."""
    with transaction.atomic():
        FiguresStamp.objects.bulk_create(
            [FiguresStamp(key=key, computed_at=NEVER) for key in keys], ignore_conflicts=True)
        stamps = list(FiguresStamp.objects.select_for_update().filter(key__in=keys)
                      .order_by("key"))
        if not force and all(_fresh(stamp, now) for stamp in stamps):
            return min(stamp.computed_at for stamp in stamps)
        store(now)
        FiguresStamp.objects.filter(key__in=keys).update(computed_at=now)
        return now


def stamps(*, now: datetime | None = None) -> dict[str, FiguresStamp]:
    """Every family's stamp and the current quarter's, in one query: pass the result to the
    readers below when a page uses several of them."""
    quarter = quarter_start(local_date(now or timezone.now()))
    keys = [*STORES, _quarter_key(quarter)]
    found = {s.key: s for s in FiguresStamp.objects.filter(key__in=keys)}
    return {key: found.get(key) for key in keys}


def _ensure(key: str, store: Callable[[datetime], None], now: datetime,
            known: dict[str, FiguresStamp | None] | None = None) -> datetime:
    if known is not None and key in known:
        stamp = known[key]
    else:
        stamp = FiguresStamp.objects.filter(key=key).first()
    if _fresh(stamp, now):
        return stamp.computed_at
    return _refresh([key], store, now)


def refresh_open_work(*, now: datetime | None = None) -> int:
    """The every-minute job: the board's open work. Returns the departments with any."""
    _refresh(["open"], _store_open, now or timezone.now(), force=True)
    return OpenWorkFigures.objects.count()


def refresh_figures(*, now: datetime | None = None, everything: bool = False) -> dict[str, int]:
    """The periodic job: recompute every family for ``now``, the current quarter, and the
    previous quarter until it settles; with ``everything``, every quarter the report can show
    and every quarter with data too.
    Returns how many rows each family holds."""
    now = now or timezone.now()
    for key, store in STORES.items():
        _refresh([key], store, now, force=True)
    current = quarter_start(local_date(now))
    quarters = [current]
    previous = last_quarters(2, until=now)[0]
    if now < closes_at(previous) + SETTLING:
        quarters.append(previous)
    if everything:
        quarters = sorted(set(_quarters_with_data(until=current))
                          | set(last_quarters(report.MAX_QUARTERS, until=now)))
    _refresh([_quarter_key(q) for q in quarters], _store_quarters(quarters), now, force=True)
    return {
        "open": OpenWorkFigures.objects.count(), "flow": FlowFigures.objects.count(), "weeks": WeekFigures.objects.count(),
        "items": ItemTimeFigures.objects.count(), "handoffs": HandoffFigures.objects.count(),
        "quarters": QuarterFigures.objects.count(),
    }


def _quarters_with_data(*, until: date) -> list[date]:
    first = ServiceRequest.objects.order_by("submitted_at").values_list(
        "submitted_at", flat=True).first()
    if first is None:
        return [until]
    quarters, quarter = [], quarter_start(local_date(first))
    while quarter <= until:
        quarters.append(quarter)
        quarter = next_quarter(quarter)
    return quarters


# --- reading -----------------------------------------------------------------------------------
def board_moments(*, now: datetime, live_open_work: bool = False,
                  known: dict[str, FiguresStamp | None] | None = None) -> dict[str, datetime]:
    """The moments the board's stored figures describe, by family (the flow window, this
    quarter, and the open work unless it is counted live), each family recomputed first when
    it is stale. Every write of those figures moves its family's moment (``_refresh`` stamps
    them in the same transaction), so together with what the board shows of the organisation
    they say whether rendered lines are still the current ones."""
    known = stamps(now=now) if known is None else known
    quarter = quarter_start(local_date(now))
    moments = {"flow": _ensure("flow", _store_flow, now, known)}
    moments[_quarter_key(quarter)] = _ensure(_quarter_key(quarter), _store_quarters([quarter]),
                                             now, known)
    if not live_open_work:
        moments["open"] = _ensure("open", _store_open, now, known)
    return moments


def board_lines(departments: list[Department], *, now: datetime | None = None,
                everything: bool = False, live_open_work: bool = False,
                known: dict[str, FiguresStamp | None] | None = None,
                moments: dict[str, datetime] | None = None,
                ) -> tuple[list[board.DepartmentLine], datetime]:
    """The board's lines (``board.department_lines``) from the stored figures: open work
    (refreshed every minute), the flow window and this quarter's accruals. With
    ``live_open_work`` (a department page: one department is cheap to count) the open work
    is counted now. ``moments``: what ``board_moments`` just returned for ``now`` (the
    families are then fresh). Returns the lines and the oldest moment the stored part
    describes."""
    now = now or timezone.now()
    if moments is None:
        moments = board_moments(now=now, live_open_work=live_open_work, known=known)
    ids = [d.pk for d in departments]
    quarter = quarter_start(local_date(now))
    open_work = None
    if not live_open_work:
        open_work = {
            row.pk: {"open_steps": row.open_steps, "overdue_steps": row.overdue_steps,
                     "risks_by_level": {1: row.risks_l1, 2: row.risks_l2, 3: row.risks_l3},
                     "exposure": row.exposure}
            for row in within(OpenWorkFigures.objects.all(), "department", ids,
                              everything=everything)
        }
    flow_rows = within(FlowFigures.objects.all(), "department", ids, everything=everything)
    flow = {row.pk: {name: getattr(row, name) for name in board.FLOW_FIELDS} for row in flow_rows}
    accrued = dict(within(QuarterFigures.objects.filter(quarter=quarter), "department",
                          ids, everything=everything)
                   .values_list("department", F("cost_of_delay") + F("delay_adjustments")))
    lines = board.department_lines(departments, now=now, everything=everything,
                                   open_work=open_work, flow=flow, accrued=accrued)
    return lines, min(moments.values())


def department_trend(department: Department, *, now: datetime | None = None,
                     known: dict[str, FiguresStamp | None] | None = None,
                     ) -> tuple[list[board.WeekRow], datetime]:
    now = now or timezone.now()
    as_of = _ensure("weeks", _store_weeks, now, known)
    stored = {
        row.week: board.WeekRow(week=row.week, steps_completed=row.steps_completed,
                                steps_breached=row.steps_breached,
                                median_hours=row.median_hours,
                                risks_detected=row.risks_detected,
                                exposure_detected=row.exposure_detected)
        for row in WeekFigures.objects.filter(department=department)
    }
    weeks = board.trend_weeks(now=as_of)
    return [stored.get(week) or board.WeekRow(week=week) for week in weeks], as_of


def department_split(department: Department, *, now: datetime | None = None,
                     known: dict[str, FiguresStamp | None] | None = None,
                     ) -> tuple[list[dict], datetime]:
    now = now or timezone.now()
    as_of = _ensure("items", _store_items, now, known)
    rows = [
        {"request__item": row.item_id, "request__item__name": row.item.name, "steps": row.steps,
         "waiting_hours": row.waiting_hours, "working_hours": row.working_hours}
        for row in ItemTimeFigures.objects.filter(department=department).select_related("item")
        .order_by("-waiting_hours", "item__name")
    ]
    return rows, as_of


def stored_handoff_pairs(department_ids, *, now: datetime | None = None,
                         everything: bool = False) -> tuple[QuerySet[HandoffFigures], datetime]:
    """The handoff pairs received by ``department_ids`` (``board.handoff_pairs``), slowest
    receiving side first, as a queryset to paginate; each row has ``from_department``,
    ``to_department``, ``count`` and ``median_dwell_hours``."""
    now = now or timezone.now()
    as_of = _ensure("handoffs", _store_handoffs, now)
    rows = within(HandoffFigures.objects.select_related("from_department", "to_department"),
                  "to_department", department_ids, everything=everything)
    return rows.order_by(F("median_dwell_hours").desc(nulls_last=True), "-count", "pk"), as_of


def report_from_figures(departments: list[Department], *, quarters: int = 4,
                        now: datetime | None = None, everything: bool = False
                        ) -> tuple[list[report.QuarterBlock], datetime]:
    """``report.quarterly_report`` from the stored quarters (computing any that are missing
    or stale first). Returns the blocks and the oldest moment among the quarters shown."""
    now = now or timezone.now()
    quarters = max(1, min(quarters, report.MAX_QUARTERS))
    starts = last_quarters(quarters, until=now)
    as_of = stored_quarters(starts, now=now)
    ids = [d.pk for d in departments]
    found = {
        (row.quarter, row.department_id): report.ReportRow(
            quarter=row.quarter, department=None, submitted=row.submitted,
            approved_spend=row.approved_spend, fulfilled_spend=row.fulfilled_spend,
            cost_of_delay=row.cost_of_delay, delay_adjustments=row.delay_adjustments,
            fulfilled=row.fulfilled, on_time=row.on_time)
        for row in within(QuarterFigures.objects.filter(quarter__in=starts), "department",
                                ids, everything=everything)
    }
    return report.report_blocks(starts, departments, found), as_of


def stored_quarters(starts: list[date], *, now: datetime) -> datetime:
    """Make sure the stored quarters ``starts`` (``QuarterFigures``) are fresh, computing the
    missing or stale ones first; returns the oldest moment among them."""
    stamps = {s.key: s for s in FiguresStamp.objects.filter(
        key__in=[_quarter_key(q) for q in starts])}
    stale = [q for q in starts if not _fresh(stamps.get(_quarter_key(q)), now)]
    as_of = [stamps[_quarter_key(q)].computed_at for q in starts if q not in stale]
    if stale:
        as_of.append(_refresh([_quarter_key(q) for q in stale], _store_quarters(stale), now))
    return min(as_of)



HEAT_LEVELS = 5


@dataclass(frozen=True)
class HeatCell:
    pair: HandoffFigures | None
    level: int  # 0 (no handoff) … HEAT_LEVELS (the slowest pair shown)


@dataclass(frozen=True)
class HandoffHeatmap:
    """From-department (rows) × to-department (columns), each cell the pair's median wait."""
    sources: list[Department]
    targets: list[Department]
    rows: list[tuple[Department, list[HeatCell]]]
    slowest_hours: Decimal | None


def handoff_heatmap(pairs: QuerySet[HandoffFigures]) -> HandoffHeatmap:
    """The heatmap of the handoff pairs ``stored_handoff_pairs`` gives (the table's own rows),
    read in one query; a cell's level is its median wait against the slowest pair's."""
    found = list(pairs)
    cells = {(p.from_department_id, p.to_department_id): p for p in found}
    sources = sorted({p.from_department for p in found}, key=lambda d: d.name)
    targets = sorted({p.to_department for p in found}, key=lambda d: d.name)
    slowest = max((p.median_dwell_hours for p in found if p.median_dwell_hours is not None),
                  default=None)

    def level(pair: HandoffFigures | None) -> int:
        if pair is None or pair.median_dwell_hours is None:
            return 0
        if not slowest:
            return 1
        return max(1, math.ceil(pair.median_dwell_hours / slowest * HEAT_LEVELS))

    rows = [(source, [HeatCell(pair=cells.get((source.pk, target.pk)),
                               level=level(cells.get((source.pk, target.pk))))
                      for target in targets]) for source in sources]
    return HandoffHeatmap(sources=sources, targets=targets, rows=rows, slowest_hours=slowest)
