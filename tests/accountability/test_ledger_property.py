"""Property: over random request histories, the cost-of-delay ledger is exactly what the
definitions say (``tests/ledger_reference.py``, an independent model), closed quarters never
change, and the report, the stored report, its CSV lines, the board and the API all read the
same sums of postings, to the cent.

A history: Marketing's calendar drawn at random (timezone, working window — round the clock
included — working days, holidays), a laptop request submitted at a random moment between
September 2026 and March 2027 (two quarter ends, two clock changes, Christmas), then random
events at random gaps: delay scans, holds (before or after the due time, across weekends and
quarter ends), answers (some after the quarter closed), changes of Marketing's head (hank and
bob in turn: each head is charged exactly the overdue time that passed while they were
accountable), and the approval — run through the real services. The number of histories is ``SRM_LEDGER_HISTORIES``: 200 by default (a quick
``make test``), 2,000 in CI (``.ci/run`` sets it), ``20000`` for the long run; the seed is fixed
(``SRM_LEDGER_SEED`` chooses another, e.g. to split a long run across processes) so a failure
reproduces.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from accountability.board import accrued_this_quarter
from accountability.figures import report_from_figures
from accountability.models import DelayPosting, DelayRisk
from accountability.report import quarterly_report, report_table
from accountability.services.risks import flag_delays
from approvals.choices import StepState
from approvals.services import step_answer, step_approve, step_hold
from governance.models import Department
from governance.services.org import department_set_head
from tests import ledger_reference as ref

pytestmark = pytest.mark.django_db

HISTORIES = int(os.environ.get("SRM_LEDGER_HISTORIES", "200"))
SEED = int(os.environ.get("SRM_LEDGER_SEED", "20261130"))
START = datetime(2026, 9, 1, tzinfo=UTC)
SPAN_HOURS = 24 * 212  # to the end of March 2027

calendars = st.builds(
    ref.Calendar,
    timezone=st.sampled_from(["Europe/Berlin", "America/New_York", "Europe/London",
                              "Asia/Kolkata"]),
    start=st.sampled_from([time(9), time(8), time(0), time(1, 30)]),
    end=st.sampled_from([time(17), time(16, 20), time(0), time(3, 30)]),
    workdays=st.sampled_from([frozenset(range(1, 6)), frozenset(range(1, 8)),
                              frozenset({1, 2, 3, 4, 7})]),
    country=st.sampled_from(["DE", "US", ""]),
).filter(lambda c: c.end == time(0) or c.end > c.start)

events = st.lists(
    st.tuples(st.sampled_from(["scan", "scan", "scan", "hold", "answer", "head", "approve"]),
              st.integers(min_value=1, max_value=24 * 60 * 30)),  # minutes after the last
    min_size=1, max_size=12,
)


def _department_calendar(calendar: ref.Calendar) -> dict:
    return {"timezone": calendar.timezone, "work_start": calendar.start,
            "work_end": calendar.end,
            "work_days": "".join(str(d) for d in sorted(calendar.workdays)),
            "holiday_country": calendar.country, "holiday_subdivision": ""}


def _quarter_figures(now: datetime) -> dict[date, tuple]:
    """Each quarter's cost of delay as every reader shows it: live report, stored report,
    its CSV/XLSX lines, and the sum of postings."""
    departments = list(Department.objects.all())
    live = quarterly_report(departments, quarters=4, now=now, everything=True)
    stored, _ = report_from_figures(departments, quarters=4, now=now, everything=True)
    csv = {}
    for line in report_table(stored):
        if line[2] == "Total":
            csv[line[0]] = Decimal(line[6])
    out = {}
    for block, kept in zip(live, stored, strict=True):
        postings = DelayPosting.objects.filter(quarter=block.quarter).aggregate(
            s=Sum("amount"))["s"] or Decimal("0.00")
        out[block.quarter] = (block.total.cost_of_delay, kept.total.cost_of_delay,
                              csv[block.label], postings)
    return out


def _posted(now: datetime) -> dict[date, Decimal]:
    """Every quarter's sum of postings (the quarters the report shows at ``now``)."""
    found = dict(DelayPosting.objects.values("quarter").order_by("quarter")
                 .annotate(a=Sum("amount")).values_list("quarter", "a"))
    return {q: found.get(q, Decimal("0.00")) for q in _shown(now)}


def _shown(now: datetime) -> list[date]:
    local = now.astimezone(ZoneInfo(django_settings.SRM_REPORTING_TIMEZONE))
    quarters = [date(local.year, (local.month - 1) // 3 * 3 + 1, 1)]
    while len(quarters) < 4:
        q = quarters[-1]
        quarters.append(date(q.year - 1, 10, 1) if q.month == 1 else date(q.year, q.month - 3, 1))
    return quarters


@seed(SEED)
@settings(max_examples=HISTORIES, deadline=None, derandomize=False, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(calendar=calendars, offset=st.integers(min_value=0, max_value=SPAN_HOURS * 60),
       history=events)
def test_the_ledger_matches_the_definitions(org, submit, calendar, offset, history):
    reporting = ZoneInfo(django_settings.SRM_REPORTING_TIMEZONE)
    with transaction.atomic():
        Department.objects.filter(code="MKT").update(**_department_calendar(calendar))
        at = START + timedelta(minutes=offset)
        request = submit(at=at)
        step = request.steps.select_related("accountable_department").get(state=StepState.ACTIVE)
        model = ref.Step(calendar=calendar, activated=at, ola_us=int(step.ola_hours * 3600) * 10**6,
                         per_day=request.item.cost_of_delay_per_day, reporting=reporting,
                         close_days=django_settings.SRM_LEDGER_CLOSE_BUSINESS_DAYS,
                         holiday_country=django_settings.SRM_DEFAULT_COUNTRY)
        assert step.due_at == model.due, "due time"
        closed_figures: dict[date, tuple] = {}
        heads = {"hank": org.hank, "bob": org.bob}
        model.head = "hank"

        for kind, gap in history:
            at += timedelta(minutes=gap)
            if kind == "scan":
                flag_delays(now=at)
                model.scan(at)
                # Remember every quarter that is closed now; it must never change again.
                for quarter, amount in _posted(at).items():
                    if at >= ref.closes_at(quarter, reporting, model.close_days,
                                           model.holiday_country):
                        assert closed_figures.setdefault(quarter, amount) == amount, quarter
            elif kind == "head":
                new = "bob" if model.head == "hank" else "hank"
                department_set_head(actor=org.admin, department=org.dept["MKT"],
                                    head=heads[new], at=at)
                model.change_head(at, new)
            elif kind == "hold" and not model.on_hold:
                step_hold(actor=heads[model.head], step=step, question="Which one?", at=at)
                model.hold(at)
            elif kind == "answer" and model.on_hold:
                step_answer(actor=org.alice, step=step, answer="This one.", at=at)
                model.answer(at)
                step.refresh_from_db()
                assert step.due_at == model.due, "due time after the hold"
            elif kind == "approve":
                step_approve(actor=heads[model.head], step=step, at=at)
                model.close(at)
                break
            step.refresh_from_db()

        got = {(q, p): [s, a] for q, p, s, a in DelayPosting.objects.values("quarter", "period")
               .order_by("quarter", "period").annotate(s=Sum("seconds"), a=Sum("amount"))
               .values_list("quarter", "period", "s", "a")}
        want = {k: v for k, v in model.ledger.items() if v[0] or v[1]}
        assert got == want
        charged = {head: [s, a] for head, s, a in DelayPosting.objects.values("head__username")
                   .order_by().annotate(s=Sum("seconds"), a=Sum("amount"))
                   .values_list("head__username", "s", "a")}
        assert charged == {k: v for k, v in model.by_head.items() if v[0] or v[1]}
        risk = DelayRisk.objects.filter(step=step).first()
        if risk is not None:
            assert (risk.overdue_seconds, risk.exposure) == (model.seconds, model.amount)
            assert (risk.postings.aggregate(a=Sum("amount"))["a"] or Decimal("0.00")) \
                == risk.exposure
        # Every reader agrees with the sum of postings, and closed quarters kept their figures.
        for quarter, figures in _quarter_figures(at).items():
            assert len(set(figures)) == 1, (quarter, figures)
            if quarter in closed_figures:
                assert figures[0] == closed_figures[quarter], quarter
        accrued = accrued_this_quarter([step.accountable_department_id], now=at)
        current = ref.quarter_of(at, reporting)
        assert accrued.get(step.accountable_department_id, Decimal("0.00")) == sum(
            (v[1] for (q, _), v in model.ledger.items() if q == current), Decimal("0.00"))
        transaction.set_rollback(True)
