"""Delay risks: the periodic scan that raises and escalates them, and their resolution when
the step closes. The accountability half of governance: it reads the lifecycle (steps,
requests, catalog items) through SQL and string references and never calls its services.

``flag_delays`` is set-based. Per run, whatever the number of steps:

1. one transaction-scoped advisory lock (PostgreSQL): a second concurrent scan returns at
   once as "skipped";
2. one ``SELECT`` of every active, not-on-hold step past due that has no open risk; the step
   and its request are locked ``SKIP LOCKED`` until the scan commits, so a step being closed
   right now is left for the next run and can never end up with an open risk after it closed;
3. one ``SELECT`` of the open risks whose step is still overdue, and one of the holds that
   stopped their clocks — the only rows that reach Python, because business time needs the
   department's calendar (a ``BusinessClock`` per distinct calendar, whole days memoised);
4. per batch of changed risks: one statement that inserts the new risks with their figures
   (``INSERT … ON CONFLICT DO NOTHING``: the partial unique constraint is the last word) and
   updates the others' running totals (``UPDATE … FROM unnest(…)``), one ``INSERT`` of their
   postings to the cost-of-delay ledger (the overdue time since the last posting, per quarter
   in which it passed: nothing already posted is touched), one details query for the risks
   raised or escalated;
5. the audit events and the notification rows, ``bulk_create``d, in the same transaction.

Killed mid-way, the transaction rolls back and the next run does the work.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accountability.delays import (
    BusinessClock,
    by_quarter,
    counted,
    hours_of,
    level_rule,
    money,
    quarter_of,
    reporting_tz,
    risk_level,
    seconds_of,
)
from accountability.models import DelayPosting, DelayRisk, PostingReason
from accountability.services.ledger import Entry, entries, posting_quarters
from accountability.services.risk_messages import RiskNews, notify_risks
from approvals.choices import StepState
from approvals.models import Step, StepHold
from governance.choices import AuditVerb
from governance.models import AuditEvent, Department, User
from governance.services.audit import audit_build, audit_record, audit_save
from requests_app.models import CatalogItem, ServiceRequest

logger = logging.getLogger(__name__)

BATCH = 2000
# pg_try_advisory_xact_lock key: "SRM delay scan".
SCAN_LOCK_KEY = 0x5352_4D44


@dataclass
class ScanResult:
    now: datetime
    skipped: bool = False
    raised: int = 0
    escalated: int = 0
    refreshed: int = 0
    open: int = 0
    exposure: Decimal = Decimal("0.00")
    notifications: int = 0
    by_level: dict[int, int] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.skipped:
            return "Another delay scan is running; nothing done."
        levels = ", ".join(f"L{k}: {v}" for k, v in sorted(self.by_level.items())) or "none"
        return (
            f"Delay scan at {self.now:%Y-%m-%d %H:%M:%S %Z}: {self.raised} raised, "
            f"{self.escalated} escalated, {self.refreshed} refreshed; {self.open} open "
            f"({levels}), exposure {self.exposure}; {self.notifications} notifications."
        )


@dataclass(slots=True)
class _Change:
    risk_id: int | None  # None for a risk not yet inserted
    head_id: int | None
    department_id: int
    new: bool
    old_level: int
    level: int
    overdue_seconds: Decimal
    exposure: Decimal
    day_seconds: int
    posted_until: datetime
    entries: list[Entry]
    # A new risk's row, inserted with its figures.
    step_id: int | None = None
    request_id: int | None = None
    per_day: Decimal | None = None
    # ``hours_of(overdue_seconds)``, when the scan has already worked it out for the level.
    hours: Decimal | None = None

    @property
    def overdue_hours(self) -> Decimal:
        return self.hours if self.hours is not None else hours_of(self.overdue_seconds)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _acquire_scan_lock() -> bool:
    if connection.vendor != "postgresql":
        # SQLite runs one writer at a time (IMMEDIATE transactions): scans queue up.
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])
        return cursor.fetchone()[0]


def _overdue_without_risk(now: datetime) -> list[tuple]:
    """The overdue steps without an open risk, locked: ``(step, request, department, head,
    cost per day, due at, OLA hours)`` each."""

    risk, step = DelayRisk._meta, Step._meta
    request, item = ServiceRequest._meta, CatalogItem._meta
    # The lifecycle locks the request (FOR UPDATE) and then the step before closing a step.
    # Skipping rows it holds leaves a step being closed right now to the next run; locking
    # both rows (until the scan commits) makes PostgreSQL re-check the step's state if it
    # changed since the statement began. NO KEY UPDATE still lets other rows reference the
    # request.
    lock = "FOR NO KEY UPDATE OF r, s SKIP LOCKED" if connection.vendor == "postgresql" else ""
    at = connection.ops.adapt_datetimefield_value(now)
    ts = "timestamptz" if connection.vendor == "postgresql" else "text"
    sql = f"""
        SELECT s.id, s.request_id, s.accountable_department_id, s.accountable_head_id,
            i.cost_of_delay_per_day, s.due_at, s.ola_hours
        FROM {_q(step.db_table)} s
        JOIN {_q(request.db_table)} r ON r.id = s.request_id
        JOIN {_q(item.db_table)} i ON i.id = r.item_id
        WHERE s.state = %s AND s.on_hold_since IS NULL AND s.due_at < CAST(%s AS {ts})
          AND NOT EXISTS (SELECT 1 FROM {_q(risk.db_table)} x
                          WHERE x.step_id = s.id AND x.resolved_at IS NULL)
        {lock}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [StepState.ACTIVE.value, at])
        rows = cursor.fetchall()
    if connection.vendor != "postgresql":
        # SQLite hands back text and floats: the figures are computed from exact values.
        convert = connection.ops.convert_datetimefield_value
        rows = [(*r[:4], Decimal(str(r[4])), convert(r[5], None, connection),
                 Decimal(str(r[6]))) for r in rows]
    return rows


def _calendars() -> dict[int, object]:
    return {d.pk: d.calendar for d in Department.objects.only(
        "timezone", "work_start", "work_end", "work_days", "holiday_country", "holiday_subdivision"
    )}


def _holds_after_due(step_filter: dict) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """The holds that started once their step was overdue: they stop its clock."""
    found: dict[int, list] = {}
    rows = (StepHold.objects.filter(started_at__gte=F("step__due_at"), **step_filter)
            .order_by().values_list("step_id", "started_at", "answered_at", "cancelled_at"))
    for step_id, started, answered, cancelled in rows:
        found.setdefault(step_id, []).append((started, answered or cancelled))
    return found


def _measure(*, clock: BusinessClock, due_at: datetime, posted_until: datetime, end: datetime,
             holds, seconds: Decimal, exposure: Decimal, per_day: Decimal, day_seconds: int,
             at: datetime, tz=None, quarter_for=None) -> tuple[list[Entry], Decimal, Decimal]:
    """The postings for the overdue time from ``posted_until`` to ``end`` (``tz``, the
    reporting timezone, and ``quarter_for``, ``posting_quarters(at)``, from a caller that
    measures many risks)."""
    if end <= posted_until or end <= due_at:
        return [], seconds, exposure
    pieces = (counted(due_at=due_at, start=posted_until, end=end, holds=holds) if holds
              else [(max(posted_until, due_at), end)])
    increments = by_quarter(clock, pieces, tz or reporting_tz())
    return entries(increments=increments, seconds_before=seconds, amount_before=exposure,
                   per_day=per_day, day_seconds=day_seconds, at=at, quarter_for=quarter_for)


def _measure_open_risks(now: datetime, fresh: list[tuple]) -> tuple[list[_Change], ScanResult]:
    """Time every open risk of a still-overdue step since its last posting, and the overdue
    steps in ``fresh`` that have none yet; return the changes: every new risk and the open
    ones whose figures changed."""
    calendars = _calendars()
    clocks: dict[object, BusinessClock] = {}
    result = ScanResult(now=now)
    changes: list[_Change] = []
    holds = _holds_after_due({"step__state": StepState.ACTIVE, "step__on_hold_since__isnull": True,
                              "step__due_at__lt": now})

    def clock_of(calendar) -> BusinessClock:
        clock = clocks.get(calendar)
        if clock is None:
            clock = clocks[calendar] = BusinessClock(calendar)
        return clock

    # What is the same for every risk of this scan, read once.
    tz, quarter_for, level_of = reporting_tz(), posting_quarters(now), level_rule()
    # Overdue time from this quarter's start on all passed in this quarter: one increment,
    # no walk over quarter ends (``by_quarter`` gives the same for such a stretch).
    this_quarter = quarter_of(now, tz)
    quarter_start = datetime.combine(this_quarter, time(0), tz)
    posts_into = quarter_for(this_quarter)
    day_hours: dict[int, Decimal] = {}
    by_level = result.by_level
    zero_seconds, zero_amount = Decimal("0.000000"), Decimal("0.00")

    def measure(level, seconds, exposure, per_day, day_seconds, posted_until, step_id, due_at,
                ola, clock):
        begin = posted_until if posted_until > due_at else due_at
        if begin >= now:
            posted = []
        elif begin >= quarter_start and step_id not in holds:
            us = clock.between(begin, now)
            if us:
                piece = seconds_of(us)
                seconds = seconds + piece
                total = money(seconds, per_day=per_day, day_seconds=day_seconds)
                posted = [Entry(posts_into, this_quarter, piece, total - exposure)]
                exposure = total
            else:
                posted = []
        else:
            posted, seconds, exposure = _measure(
                clock=clock, due_at=due_at, posted_until=posted_until, end=now,
                holds=holds.get(step_id, ()), seconds=seconds, exposure=exposure,
                per_day=per_day, day_seconds=day_seconds, at=now, tz=tz,
                quarter_for=quarter_for)
        hours = day_hours.get(day_seconds)
        if hours is None:
            hours = day_hours[day_seconds] = Decimal(day_seconds) / 3600
        overdue_hours = hours_of(seconds)
        new_level = level_of(overdue_hours, ola, hours)
        if new_level < level:
            new_level = level
        result.open += 1
        result.exposure += exposure
        by_level[new_level] = by_level.get(new_level, 0) + 1
        return posted, seconds, exposure, new_level, overdue_hours

    rows = (
        DelayRisk.objects.filter(
            resolved_at__isnull=True,
            step__state=StepState.ACTIVE,
            step__on_hold_since__isnull=True,
            step__due_at__lt=now,
        )
        .order_by()
        .values_list(
            "id", "head_id", "department_id", "level", "overdue_seconds", "exposure",
            "cost_of_delay_per_day", "day_seconds", "posted_until", "step_id", "step__due_at",
            "step__ola_hours",
        )
        .iterator(chunk_size=BATCH)
    )
    dept_clocks: dict[int, BusinessClock] = {}
    for (risk_id, head_id, dept_id, level, seconds, exposure, per_day, day_seconds, posted_until,
         step_id, due_at, ola) in rows:
        clock = dept_clocks.get(dept_id)
        if clock is None:
            clock = dept_clocks[dept_id] = clock_of(calendars[dept_id])
        posted, seconds, exposure, new_level, hours = measure(
            level, seconds, exposure, per_day, day_seconds, posted_until, step_id, due_at, ola,
            clock)
        if new_level != level or posted:
            changes.append(_Change(risk_id, head_id, dept_id, False, level, new_level, seconds,
                                   exposure, day_seconds, now if posted else posted_until,
                                   posted, hours=hours))
    day_lengths: dict[int, int] = {}
    for step_id, request_id, dept_id, head_id, per_day, due_at, ola in fresh:
        day_seconds = day_lengths.get(dept_id)
        if day_seconds is None:
            day_seconds = day_lengths[dept_id] = calendars[dept_id].day_seconds
        clock = dept_clocks.get(dept_id)
        if clock is None:
            clock = dept_clocks[dept_id] = clock_of(calendars[dept_id])
        posted, seconds, exposure, new_level, hours = measure(
            1, zero_seconds, zero_amount, per_day, day_seconds, due_at, step_id, due_at, ola,
            clock)
        changes.append(_Change(None, head_id, dept_id, True, 1, new_level, seconds, exposure,
                               day_seconds, now if posted else due_at, posted,
                               step_id=step_id, request_id=request_id, per_day=per_day,
                               hours=hours))
    return changes, result


def _column(values: Iterable) -> str:
    """One batch column as a single text parameter (PostgreSQL ``string_to_array``): the
    driver then quotes one string instead of thousands of values."""
    return ",".join(map(str, values))


def _write_batch(changes: list[_Change], now: datetime) -> set[int]:
    """Insert the batch's new risks with their figures, store the others' figures, and post
    their increments; return the ids actually written (a step given a risk, or a risk
    resolved, by a concurrent close in the meantime is left alone)."""
    if connection.vendor == "postgresql":
        written = _write_batch_pg(changes, now)
    else:
        written = _write_batch_sqlite(changes, now)
    _post([c for c in changes if c.risk_id in written], now, PostingReason.SCAN)
    return written


def _escalated(c: _Change) -> bool:
    return c.level > 1 and (c.new or c.level > c.old_level)


def _write_batch_sqlite(changes: list[_Change], now: datetime) -> set[int]:
    # SQLite runs one writer at a time: nobody can have opened or closed a risk meanwhile,
    # and a row per statement is fine at its sizes.
    fresh = [c for c in changes if c.new]
    risks = DelayRisk.objects.bulk_create([
        DelayRisk(step_id=c.step_id, request_id=c.request_id, department_id=c.department_id,
                  head_id=c.head_id, detected_at=now, level=c.level,
                  escalated_at=now if _escalated(c) else None, overdue_hours=c.overdue_hours,
                  overdue_seconds=c.overdue_seconds, cost_of_delay_per_day=c.per_day,
                  day_seconds=c.day_seconds, exposure=c.exposure, posted_until=c.posted_until,
                  refreshed_at=now)
        for c in fresh], batch_size=BATCH)
    for c, risk in zip(fresh, risks, strict=True):
        c.risk_id = risk.pk
    written = {c.risk_id for c in fresh}
    for c in changes:
        if not c.new and DelayRisk.objects.filter(pk=c.risk_id, resolved_at__isnull=True).update(
                overdue_hours=c.overdue_hours, overdue_seconds=c.overdue_seconds,
                exposure=c.exposure, level=c.level, day_seconds=c.day_seconds,
                posted_until=c.posted_until, refreshed_at=now,
                **({"escalated_at": now} if _escalated(c) else {})):
            written.add(c.risk_id)
    return written


def _write_batch_pg(changes: list[_Change], now: datetime) -> set[int]:
    """One statement: the new risks' ``INSERT … ON CONFLICT DO NOTHING`` and the others'
    ``UPDATE … FROM unnest(…)``, each returning ``(id, step)`` of the rows it wrote."""
    table = _q(DelayRisk._meta.db_table)
    fresh = [c for c in changes if c.new]
    changed = [c for c in changes if not c.new]
    parts: list[str] = []
    params: list = []
    if fresh:
        parts.append(f"""
            INSERT INTO {table} (step_id, request_id, department_id, head_id, detected_at, level,
                escalated_at, overdue_hours, overdue_seconds, cost_of_delay_per_day,
                day_seconds, exposure, posted_until, refreshed_at, resolution)
            SELECT v.step, v.request, v.dept, NULLIF(v.head, 0), %s, v.level,
                CASE WHEN v.escalated = 1 THEN %s::timestamptz END, v.overdue_hours,
                v.overdue_seconds, v.per_day, v.day_seconds, v.exposure, v.posted_until, %s, ''
            FROM unnest(string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::bigint[],
                        string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::bigint[],
                        string_to_array(%s, ',')::integer[], string_to_array(%s, ',')::integer[],
                        string_to_array(%s, ',')::numeric[], string_to_array(%s, ',')::numeric[],
                        string_to_array(%s, ',')::numeric[], string_to_array(%s, ',')::integer[],
                        string_to_array(%s, ',')::numeric[],
                        string_to_array(%s, ',')::timestamptz[])
                 AS v(step, request, dept, head, level, escalated, overdue_hours,
                      overdue_seconds, per_day, day_seconds, exposure, posted_until)
            ON CONFLICT (step_id) WHERE resolved_at IS NULL DO NOTHING
            RETURNING id, step_id""")
        params += [
            now, now, now,
            _column(c.step_id for c in fresh), _column(c.request_id for c in fresh),
            _column(c.department_id for c in fresh), _column(c.head_id or 0 for c in fresh),
            _column(c.level for c in fresh), _column(int(_escalated(c)) for c in fresh),
            _column(c.overdue_hours for c in fresh), _column(c.overdue_seconds for c in fresh),
            _column(c.per_day for c in fresh), _column(c.day_seconds for c in fresh),
            _column(c.exposure for c in fresh),
            _column(c.posted_until.isoformat() for c in fresh),
        ]
    if changed:
        parts.append(f"""
            UPDATE {table} SET overdue_hours = v.overdue_hours,
                overdue_seconds = v.overdue_seconds, exposure = v.exposure, level = v.level,
                day_seconds = v.day_seconds, posted_until = v.posted_until, refreshed_at = %s,
                escalated_at = CASE WHEN v.escalated = 1 THEN %s ELSE {table}.escalated_at END
            FROM unnest(string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::numeric[],
                        string_to_array(%s, ',')::numeric[], string_to_array(%s, ',')::numeric[],
                        string_to_array(%s, ',')::integer[], string_to_array(%s, ',')::integer[],
                        string_to_array(%s, ',')::timestamptz[],
                        string_to_array(%s, ',')::integer[])
                 AS v(id, overdue_hours, overdue_seconds, exposure, level, day_seconds,
                      posted_until, escalated)
            WHERE {table}.id = v.id AND {table}.resolved_at IS NULL
            RETURNING {table}.id, {table}.step_id""")
        params += [
            now, now,
            _column(c.risk_id for c in changed), _column(c.overdue_hours for c in changed),
            _column(c.overdue_seconds for c in changed), _column(c.exposure for c in changed),
            _column(c.level for c in changed), _column(c.day_seconds for c in changed),
            _column(c.posted_until.isoformat() for c in changed),
            _column(int(_escalated(c)) for c in changed),
        ]
    if not parts:
        return set()
    sql = parts[0] if len(parts) == 1 else (
        f"WITH ins AS ({parts[0]}), upd AS ({parts[1]}) "
        "SELECT id, step_id FROM ins UNION ALL SELECT id, step_id FROM upd")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if fresh:
        ids = {step_id: pk for pk, step_id in rows}
        for c in fresh:
            c.risk_id = ids.get(c.step_id)
    return {pk for pk, _ in rows}


def _post(changes: Iterable[_Change], now: datetime, reason: str, note: str = "") -> None:
    """Append the changes' entries to the ledger (one statement on PostgreSQL)."""
    rows = [(c.risk_id, c.department_id, c.head_id, e) for c in changes for e in c.entries]
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {_q(DelayPosting._meta.db_table)} (risk_id, department_id,
                        head_id, quarter, period, seconds, amount, posted_at, reason, note)
                    SELECT v.risk, v.dept, NULLIF(v.head, 0), v.quarter, v.period, v.seconds,
                        v.amount, %s, %s, %s
                    FROM unnest(string_to_array(%s, ',')::bigint[],
                        string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::bigint[],
                        string_to_array(%s, ',')::date[], string_to_array(%s, ',')::date[],
                        string_to_array(%s, ',')::numeric[], string_to_array(%s, ',')::numeric[])
                        AS v(risk, dept, head, quarter, period, seconds, amount)""",
                [now, str(reason), note,
                 _column(r[0] for r in rows), _column(r[1] for r in rows),
                 _column(r[2] or 0 for r in rows), _column(r[3].quarter for r in rows),
                 _column(r[3].period for r in rows), _column(r[3].seconds for r in rows),
                 _column(r[3].amount for r in rows)],
            )
        return
    DelayPosting.objects.bulk_create([
        DelayPosting(risk_id=risk_id, department_id=dept_id, head_id=head_id, quarter=e.quarter,
                     period=e.period, seconds=e.seconds, amount=e.amount, posted_at=now,
                     reason=reason, note=note)
        for risk_id, dept_id, head_id, e in rows
    ], batch_size=BATCH)


def _news(changes: list[_Change]) -> list[_Change]:
    """The risks of a batch raised or escalated by this scan."""
    return [c for c in changes if c.new or c.level > c.old_level]


def _audit(news: list[_Change], now: datetime) -> None:
    """The audit events of a batch's news (the risks were written just before, so the rows
    carry this scan's level and figures)."""
    if not news:
        return
    content_type = ContentType.objects.get_for_model(DelayRisk)
    if connection.vendor == "postgresql":
        _audit_pg(news, now, content_type.pk)
    else:
        by_id = {c.risk_id: c for c in news}
        risks = DelayRisk.objects.select_related("request", "step", "department", "head").filter(
            pk__in=by_id)
        AuditEvent.objects.bulk_create([
            AuditEvent(
                created_at=now, actor=None, content_type=content_type,
                verb=AuditVerb.RISK_RAISED if by_id[risk.pk].new else AuditVerb.RISK_ESCALATED,
                object_id=str(risk.pk), object_repr=str(risk)[:200],
                correlation=risk.request.reference,
                from_state="" if by_id[risk.pk].new else f"level {by_id[risk.pk].old_level}",
                to_state=f"level {risk.level}",
                data={"step": risk.step.name, "department": risk.department.code,
                      "head": risk.head.username if risk.head else None,
                      "overdue_hours": risk.overdue_hours, "exposure": risk.exposure},
            )
            for risk in risks
        ], batch_size=BATCH)


def _notify(news: list[_Change], now: datetime) -> int:
    """One notification per person for the whole scan, however many batches it wrote."""
    if not news:
        return 0
    return notify_risks([
        RiskNews(risk_id=c.risk_id, head_id=c.head_id, department_id=c.department_id,
                 level=c.level, new=c.new, old_level=c.old_level, exposure=c.exposure)
        for c in news
    ], at=now)


def _audit_pg(news: list[_Change], now: datetime, content_type_id: int) -> None:
    """The ``risk.raised`` / ``risk.escalated`` events of a batch in one statement (the same
    rows the loop below builds on SQLite). The step, request, department and head are looked
    up per risk by primary key: a join would make PostgreSQL hash the whole step table for a
    batch of a few thousand risks."""

    sql = f"""
        INSERT INTO {_q(AuditEvent._meta.db_table)} (created_at, actor_id, on_behalf_of_id, verb,
            content_type_id, object_id, object_repr, correlation, from_state, to_state, data)
        SELECT %s, NULL, NULL, CASE WHEN v.new = 1 THEN %s ELSE %s END,
            %s, r.id::text, 'Delay L' || r.level || ' on step ' || r.step_id,
            (SELECT q.reference FROM {_q(ServiceRequest._meta.db_table)} q
             WHERE q.id = r.request_id),
            CASE WHEN v.new = 1 THEN '' ELSE 'level ' || v.old_level END, 'level ' || r.level,
            jsonb_build_object(
                'step', (SELECT s.name FROM {_q(Step._meta.db_table)} s WHERE s.id = r.step_id),
                'department', (SELECT d.code FROM {_q(Department._meta.db_table)} d
                               WHERE d.id = r.department_id),
                'head', (SELECT u.username FROM {_q(User._meta.db_table)} u
                         WHERE u.id = r.head_id),
                'overdue_hours', r.overdue_hours::text, 'exposure', r.exposure::text)
        FROM unnest(string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::integer[],
                    string_to_array(%s, ',')::integer[]) AS v(id, new, old_level)
        JOIN {_q(DelayRisk._meta.db_table)} r ON r.id = v.id
        ORDER BY r.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, AuditVerb.RISK_RAISED.value, AuditVerb.RISK_ESCALATED.value,
                             content_type_id, _column(c.risk_id for c in news),
                             _column(int(c.new) for c in news),
                             _column(c.old_level for c in news)])


@transaction.atomic
def flag_delays(*, now: datetime | None = None) -> ScanResult:
    """Raise, escalate and refresh the delay risks of every overdue step. Safe to run twice
    or concurrently; the figures are those of ``now`` (default: the current time)."""
    with _collector_paused():
        return _flag_delays(now or timezone.now())


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A scan allocates a few objects per risk (tens of thousands at a time) and frees them
    by reference counting; the cyclic collector walked them all again and again meanwhile, a
    third of the scan's Python time at 20,000 new risks. It runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _flag_delays(now: datetime) -> ScanResult:
    if not _acquire_scan_lock():
        return ScanResult(now=now, skipped=True)
    changes, result = _measure_open_risks(now, _overdue_without_risk(now))
    news: list[_Change] = []
    for start in range(0, len(changes), BATCH):
        batch = changes[start:start + BATCH]
        updated = _write_batch(batch, now)
        batch = [c for c in batch if c.risk_id in updated]
        result.refreshed += len(batch)
        result.raised += sum(1 for c in batch if c.new)
        result.escalated += sum(1 for c in batch if not c.new and c.level > c.old_level)
        batch_news = _news(batch)
        _audit(batch_news, now)
        news += batch_news
    result.notifications = _notify(news, now)
    logger.info("%s", result)
    return result


# --- Resolution ----------------------------------------------------------------------------
def risk_resolve_for_step(*, step, at: datetime) -> DelayRisk | None:
    """Close the delay of a step that just left the active state, posting the overdue time
    since the last scan.

    Runs inside the transaction that closed the step (``approvals.signals.step_closed``). A
    step that closed late before any scan saw it still gets its (resolved) risk: the history
    finance reads must not depend on when the scan last ran.
    """
    risk, posted, seconds, exposure, end = _posted_until(step, at)
    if risk is None:
        return None
    detected_on_close = risk.pk is None
    if detected_on_close and not posted:
        return None
    risk.level = max(risk.level or 1, risk_level(
        overdue_hours=hours_of(seconds), ola_hours=step.ola_hours, day_hours=risk.day_hours))
    risk.overdue_seconds, risk.overdue_hours, risk.exposure = seconds, hours_of(seconds), exposure
    risk.posted_until = max(risk.posted_until, end)
    risk.refreshed_at = risk.resolved_at = at
    risk.resolution = step.state
    risk.save()
    _post([_Change(risk.pk, risk.head_id, risk.department_id, False, risk.level, risk.level,
                   seconds, exposure, risk.day_seconds, risk.posted_until, posted)],
          at, PostingReason.CLOSE)
    audit_record(
        actor=None, verb=AuditVerb.RISK_RESOLVED, target=risk, from_state=f"level {risk.level}",
        to_state=str(step.state), correlation=_reference(step),
        data={"overdue_hours": risk.overdue_hours, "overdue_seconds": risk.overdue_seconds,
              "exposure": risk.exposure, "detected_on_close": detected_on_close},
        at=at,
    )
    return risk


def _posted_until(step, at: datetime):
    """The step's open delay risk, locked, and what to post for its overdue time up to ``at``
    (or until its hold began): ``(risk, entries, seconds after, exposure after, end)``. A
    step overdue by then that no scan has seen yet gets a new, unsaved risk; one not overdue
    gets none (``risk`` is None)."""
    end = min(at, step.on_hold_since) if step.on_hold_since else at
    # ``False`` when the step's lock found no open risk (``open_delay_risk``): none can have
    # appeared since, the scan skips the locked request.
    known = getattr(step, OPEN_RISK, None)
    risk = None if known is False else (
        DelayRisk.objects.select_for_update(of=("self",))
        .select_related("department")
        .filter(step_id=step.pk, resolved_at__isnull=True)
        .first()
    )
    if risk is None and (step.due_at is None or end <= step.due_at):
        return None, [], None, None, end
    department = risk.department if risk else (
        step.accountable_department if "accountable_department" in step._state.fields_cache
        else Department.objects.get(pk=step.accountable_department_id))
    calendar = department.calendar
    if risk is None:
        per_day = (
            ServiceRequest.objects.filter(pk=step.request_id)
            .values_list("item__cost_of_delay_per_day", flat=True)
            .get()
        )
        risk = DelayRisk(
            step_id=step.pk, request_id=step.request_id, department=department,
            head_id=step.accountable_head_id, detected_at=at, refreshed_at=at,
            cost_of_delay_per_day=per_day, day_seconds=calendar.day_seconds,
            posted_until=step.due_at,
        )
    posted, seconds, exposure = _measure(
        clock=BusinessClock(calendar), due_at=step.due_at, posted_until=risk.posted_until,
        end=end, holds=_holds_after_due({"step_id": step.pk}).get(step.pk, ()),
        seconds=risk.overdue_seconds, exposure=risk.exposure,
        per_day=risk.cost_of_delay_per_day, day_seconds=risk.day_seconds, at=at)
    if risk.pk is None and not posted:
        return None, [], None, None, end
    return risk, posted, seconds, exposure, end


def _reference(step) -> str:
    request = step._state.fields_cache.get("request")
    if request is not None:
        return request.reference

    return ServiceRequest.objects.values_list("reference", flat=True).get(pk=step.request_id)


# What ``approvals.services.steps._lock`` reads with each step it locks (registered in
# ``accountability.wiring``): whether it has an open delay risk. The lifecycle locks the
# request before its steps and the scan skips locked requests, so the answer holds until the
# transaction ends, and a step closed in time skips the risk's lookup.
OPEN_RISK = "srm_open_delay_risk"


def open_delay_risk() -> Exists:
    return Exists(DelayRisk.objects.filter(step_id=OuterRef("pk"), resolved_at__isnull=True))


def on_step_closed(sender, *, step, at, **kwargs) -> None:
    risk_resolve_for_step(step=step, at=at)




# --- Calendar corrections ------------------------------------------------------------------
def risks_correct_calendar(*, department: Department, old, since: datetime, at: datetime,
                           actor: User | None = None) -> tuple[int, Decimal]:
    """Measure again, under ``department``'s corrected calendar, the delay time its risks
    posted since ``since`` (measured then under ``old``), and post the difference with reason
    *correction* — into its own quarter while that is open, as an adjustment of the quarter
    open at ``at`` once it has closed. Nothing already posted changes. Returns the number of
    risks corrected and the net amount posted.

    The due times stay as they were promised; a risk's price of a business day
    (``day_seconds``, fixed when it was raised) stays too, so a day counted again costs what
    it cost before.
    """
    old_clock, new_clock = BusinessClock(old), BusinessClock(department.calendar)
    tz = reporting_tz()
    risks = list(
        DelayRisk.objects.select_for_update(of=("self",))
        .filter(department=department, posted_until__gt=since)
        .select_related("step", "request")
        .order_by("pk")
    )
    holds = _holds_after_due({"step_id__in": [r.step_id for r in risks]})
    changes, events, net = [], [], Decimal("0.00")
    for risk in risks:
        pieces = counted(due_at=risk.step.due_at, start=since, end=risk.posted_until,
                         holds=holds.get(risk.step_id, ()))
        before = by_quarter(old_clock, pieces, tz)
        after = by_quarter(new_clock, pieces, tz)
        increments = {p: after.get(p, 0) - before.get(p, 0) for p in sorted({*before, *after})}
        posted, seconds, exposure = entries(
            increments=increments, seconds_before=risk.overdue_seconds,
            amount_before=risk.exposure, per_day=risk.cost_of_delay_per_day,
            day_seconds=risk.day_seconds, at=at)
        if not posted:
            continue
        net += exposure - risk.exposure
        events.append(audit_build(
            actor=actor, verb=AuditVerb.RISK_CORRECTED, target=risk,
            from_state=str(risk.exposure), to_state=str(exposure),
            correlation=risk.request.reference,
            data={"since": since.isoformat(), "overdue_seconds_before": risk.overdue_seconds,
                  "overdue_seconds": seconds, "exposure_before": risk.exposure,
                  "exposure": exposure},
            at=at))
        risk.overdue_seconds, risk.overdue_hours, risk.exposure = seconds, hours_of(seconds), exposure
        risk.refreshed_at = at
        risk.save(update_fields=["overdue_seconds", "overdue_hours", "exposure", "refreshed_at"])
        changes.append(_Change(risk.pk, risk.head_id, risk.department_id, False, risk.level,
                               risk.level, seconds, exposure, risk.day_seconds,
                               risk.posted_until, posted))
    _post(changes, at, PostingReason.CORRECTION,
          note=f"Calendar corrected from {since.date():%Y-%m-%d}")
    if events:
        audit_save(events)
    return len(changes), net


def on_calendar_corrected(sender, *, department, old, since, actor, at, **kwargs) -> None:
    risks_correct_calendar(department=department, old=old, since=since, at=at, actor=actor)


# --- Head changes --------------------------------------------------------------------------
_REATTRIBUTED_FIELDS = ["level", "overdue_seconds", "overdue_hours", "exposure", "posted_until",
                        "refreshed_at", "previous_head", "head", "department", "head_since",
                        "previous_heads_exposure"]


def risks_reattribute(*, moves, at: datetime, actor: User | None = None) -> list[DelayRisk]:
    """The active steps of ``moves`` (already moved) are accountable to their new head from
    ``at`` on. For each, the overdue time up to ``at`` (or until its hold began) is posted
    against the head it was accountable to until then (reason *reattribution*; into the open
    quarter as an adjustment where its own has closed, as always), and the risk then names
    the new head, the previous one, the moment and what earlier heads were charged, with a
    ``risk.reattributed`` audit event. Nothing already posted changes. A step overdue by
    ``at`` that no scan has seen yet gets its risk here, so the old head's part never
    depends on when the scan last ran. Set-based: a few statements for the whole change,
    whatever the number of steps."""
    active = {m.step.pk: m for m in moves if m.step.state == StepState.ACTIVE}
    if not active:
        return []
    risks = {r.step_id: r for r in DelayRisk.objects.select_for_update(of=("self",))
             .filter(step_id__in=active, resolved_at__isnull=True)}

    def end_of(step) -> datetime:
        return min(at, step.on_hold_since) if step.on_hold_since else at

    overdue = [m for pk, m in active.items() if pk in risks
               or (m.step.due_at is not None and end_of(m.step) > m.step.due_at)]
    if not overdue:
        return []
    calendars, clocks = _calendars(), {}
    holds = _holds_after_due({"step_id__in": [m.step.pk for m in overdue]})
    missing = [m.step.request_id for m in overdue if m.step.pk not in risks]
    per_day = dict(ServiceRequest.objects.filter(pk__in=missing)
                   .values_list("pk", "item__cost_of_delay_per_day")) if missing else {}
    changed = []  # (risk, previous head id, entries)
    for move in overdue:
        step = move.step
        risk = risks.get(step.pk)
        if risk is not None and risk.head_id == step.accountable_head_id:
            continue
        calendar = calendars[risk.department_id if risk else step.accountable_department_id]
        if risk is None:
            risk = DelayRisk(
                step_id=step.pk, request_id=step.request_id,
                department_id=step.accountable_department_id, head_id=step.accountable_head_id,
                detected_at=at, refreshed_at=at, cost_of_delay_per_day=per_day[step.request_id],
                day_seconds=calendar.day_seconds, posted_until=step.due_at)
        clock = clocks.get(calendar) or clocks.setdefault(calendar, BusinessClock(calendar))
        end = end_of(step)
        posted, seconds, exposure = _measure(
            clock=clock, due_at=step.due_at, posted_until=risk.posted_until, end=end,
            holds=holds.get(step.pk, ()), seconds=risk.overdue_seconds, exposure=risk.exposure,
            per_day=risk.cost_of_delay_per_day, day_seconds=risk.day_seconds, at=at)
        if risk.pk is None and not posted:
            continue
        if posted:
            risk.level = max(risk.level or 1, risk_level(
                overdue_hours=hours_of(seconds), ola_hours=step.ola_hours,
                day_hours=risk.day_hours))
            risk.overdue_seconds, risk.overdue_hours, risk.exposure = (
                seconds, hours_of(seconds), exposure)
            risk.posted_until = max(risk.posted_until, end)
        previous_id = move.from_head.pk if move.from_head is not None else risk.head_id
        changed.append((risk, move, previous_id, posted))
    if not changed:
        return []
    DelayRisk.objects.bulk_create([risk for risk, *_ in changed if risk.pk is None],
                                  batch_size=BATCH)
    # What is posted now was accountable to the previous head.
    _post([_Change(risk.pk, previous_id, risk.department_id, False, risk.level, risk.level,
                   risk.overdue_seconds, risk.exposure, risk.day_seconds, risk.posted_until,
                   posted) for risk, _move, previous_id, posted in changed],
          at, PostingReason.REATTRIBUTION, note="Accrued until the accountable head changed")
    events = []
    for risk, move, previous_id, _posted in changed:
        step = move.step
        risk.previous_head_id, risk.head_id = previous_id, step.accountable_head_id
        risk.department_id = step.accountable_department_id
        risk.head_since, risk.previous_heads_exposure, risk.refreshed_at = at, risk.exposure, at
        events.append(audit_build(
            actor=actor, verb=AuditVerb.RISK_REATTRIBUTED, target=risk,
            from_state=move.from_head.username if move.from_head else "",
            to_state=step.accountable_head.username, correlation=_reference(step),
            data={"at": at.isoformat(), "overdue_seconds_before": risk.overdue_seconds,
                  "exposure_before": risk.exposure},
            at=at))
    DelayRisk.objects.bulk_update([risk for risk, *_ in changed], _REATTRIBUTED_FIELDS,
                                  batch_size=BATCH)
    audit_save(events)
    return [risk for risk, *_ in changed]


def on_steps_reassigned(sender, *, moves, reason, actor, at, **kwargs) -> None:
    risks_reattribute(moves=moves, at=at, actor=actor)
