"""Property: over random request histories the commitment ledger is exactly what
docs/budgets.md says, against an independent model kept in this test.

A history: Marketing has budgets for 2026 Q4 and 2027 Q1; laptop requests are submitted at
random moments between November 2026 and April 2027 (Q4 closes on 9 January, Q1 in April),
some asking for the actual cost at fulfilment; then random events at random gaps — approve
(always with an over-budget reason, so nothing is refused), reject, cancel, fulfil with an
actual above or below the estimate — through the real services, some after the quarter that
funds the request has closed. The path's finance step applies only through its budget
condition (below a 10 % reserve).

At every moment: each quarter's committed, actual and released are the model's, and
budget − committed − actual + released = remaining on the report, its CSV and as the model
has it; a closed quarter's CSV lines are byte-identical before and after every later event;
the finance step was built exactly when the remaining budget would have gone below the
reserve; a commitment carries an over-budget reason exactly when it went over; and the
stored figures the report reads (per cost centre and quarter, and per item for the
forecast) are the sums of the postings, as ``verify_budget_figures`` recomputes them.

The number of histories is ``SRM_BUDGET_HISTORIES`` (default 25; CI may raise it), with a
fixed seed (``SRM_LEDGER_SEED``) so a failure reproduces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from accountability.budget_report import budget_blocks, budget_table
from accountability.models import Budget, CommitmentPosting
from accountability.services.budget_figures import budget_figures_verify
from approvals.choices import StepState
from approvals.services import request_cancel, step_approve, step_claim, step_complete, step_reject
from governance.models import Department
from requests_app.choices import OPEN_STATES
from tests import ledger_reference as ref

pytestmark = pytest.mark.django_db

HISTORIES = int(os.environ.get("SRM_BUDGET_HISTORIES", "25"))
SEED = int(os.environ.get("SRM_LEDGER_SEED", "20261130"))
START = datetime(2026, 11, 2, 8, tzinfo=UTC)
Q4, Q1 = date(2026, 10, 1), date(2027, 1, 1)
RESERVE = Decimal("10")
ZERO = Decimal("0.00")

events = st.lists(
    st.tuples(st.sampled_from(["submit", "submit", "approve", "approve", "approve", "reject",
                               "cancel", "fulfil", "fulfil"]),
              st.integers(min_value=1, max_value=60 * 24 * 20),  # minutes after the last
              st.integers(min_value=0, max_value=10**6)),  # which request, which amount
    min_size=1, max_size=14,
)


@dataclass
class Model:
    """The definitions, independently: postings as (counting quarter, kind, amount)."""

    budgets: dict[date, Decimal]
    reporting: ZoneInfo
    postings: list[tuple[date, str, Decimal]] = field(default_factory=list)
    commitments: dict[int, tuple[date, Decimal]] = field(default_factory=dict)  # request → funding

    def counts_in(self, period: date, at: datetime) -> date:
        closes = ref.closes_at(period, self.reporting,
                               django_settings.SRM_LEDGER_CLOSE_BUSINESS_DAYS,
                               django_settings.SRM_DEFAULT_COUNTRY)
        return ref.quarter_of(at, self.reporting) if at >= closes else period

    def figures(self, quarter: date) -> tuple[Decimal, Decimal, Decimal]:
        sums = {"commit": ZERO, "actual": ZERO, "release": ZERO}
        for counted, kind, amount in self.postings:
            if counted == quarter:
                sums[kind] += amount
        return sums["commit"], sums["actual"], sums["release"]

    def remaining(self, quarter: date) -> Decimal:
        committed, actual, released = self.figures(quarter)
        return self.budgets.get(quarter, ZERO) - committed - actual + released

    def commit(self, pk: int, cost: Decimal, at: datetime) -> bool:
        """Commit; True when it went over the remaining budget."""
        period = ref.quarter_of(at, self.reporting)
        over = period in self.budgets and cost > self.remaining(period)
        self.postings.append((self.counts_in(period, at), "commit", cost))
        self.commitments[pk] = (period, cost)
        return over

    def close(self, pk: int, at: datetime, actual: Decimal | None) -> None:
        funding = self.commitments.get(pk)
        period = funding[0] if funding else ref.quarter_of(at, self.reporting)
        if actual:
            self.postings.append((self.counts_in(period, at), "actual", actual))
        if funding:
            self.postings.append((self.counts_in(period, at), "release", funding[1]))


def _report(now: datetime) -> dict[str, list[list]]:
    """The CSV lines (as ``budget_table`` writes them) of Marketing per quarter label."""
    blocks = budget_blocks(list(Department.objects.filter(code="MKT")), quarters=4,
                           everything=False, now=now)
    lines: dict[str, list[list]] = {}
    for line in budget_table(blocks):
        lines.setdefault(line[0], []).append(line)
    return lines


@seed(SEED)
@settings(max_examples=HISTORIES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(q4=st.sampled_from([Decimal("3000"), Decimal("8000"), Decimal("20000")]),
       q1=st.sampled_from([Decimal("2000"), Decimal("9000")]),
       records=st.booleans(), history=events)
def test_the_commitment_ledger_matches_the_definitions(org, submit, q4, q1, records, history):
    reporting = ZoneInfo(django_settings.SRM_REPORTING_TIMEZONE)
    with transaction.atomic():
        item = org.item["laptop"]
        item.records_actual_cost = records
        item.save(update_fields=["records_actual_cost"])
        item.path.templates.filter(name="Finance approval").update(
            min_cost=None, budget_reserve_percent=RESERVE)
        for quarter, amount in ((Q4, q4), (Q1, q1)):
            Budget.objects.create(department=org.dept["MKT"], quarter=quarter, amount=amount,
                                  updated_at=START)
        model = Model(budgets={Q4: q4, Q1: q1}, reporting=reporting)
        requests = []
        closed_csv: dict[str, list[list]] = {}
        at = START

        for kind, gap, pick in history:
            at += timedelta(minutes=gap)
            open_ones = [r for r in requests if r.state in OPEN_STATES]
            if kind == "submit" or not open_ones:
                cost = Decimal([400, 1200, 2500, 6000][pick % 4])
                quarter = ref.quarter_of(at, reporting)
                expected = quarter in model.budgets and (
                    model.remaining(quarter) - cost < model.budgets[quarter] * RESERVE / 100)
                request = submit(cost=str(cost), at=at)
                finance = request.steps.get(name="Finance approval")
                assert (finance.state == StepState.PENDING) == expected, (
                    cost, model.remaining(quarter))
                requests.append(request)
                continue
            request = open_ones[pick % len(open_ones)]
            step = request.steps.select_related("accountable_head").get(state=StepState.ACTIVE)
            if kind == "approve" and step.kind == "approval":
                last = not request.steps.filter(state=StepState.PENDING,
                                                kind="approval").exists()
                step_approve(actor=step.accountable_head, step=step, at=at,
                             over_budget_reason="Agreed by the CFO")
                if last:
                    over = model.commit(request.pk, request.estimated_cost, at)
                    posting = CommitmentPosting.objects.get(request=request, kind="commit")
                    assert bool(posting.over_budget_reason) == over
            elif kind == "reject" and step.kind == "approval":
                step_reject(actor=step.accountable_head, step=step, comment="No", at=at)
                model.close(request.pk, at, None)
            elif kind == "cancel":
                request_cancel(actor=org.alice, request=request, reason="Changed plans", at=at)
                model.close(request.pk, at, None)
            elif kind == "fulfil" and step.kind == "execution":
                actual = (request.estimated_cost * Decimal([80, 100, 135][pick % 3]) / 100
                          ).quantize(Decimal("0.01")) if records else None
                step_claim(actor=org.ivan, step=step, at=at)
                step_complete(actor=org.ivan, step=step, actual_cost=actual, at=at)
                model.close(request.pk, at, actual if records else request.estimated_cost)
            for r in requests:
                r.refresh_from_db(fields=["state"])

            # At every moment: the stored figures are the ledger's sums, every figure is as
            # the model has it, and the identity holds.
            assert budget_figures_verify() == [], kind
            report = _report(at)
            for quarter in (Q4, Q1):
                label = f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}"
                if label not in report:
                    continue
                line = report[label][0]
                budget, committed, actual, released, remaining = (Decimal(v) for v in line[3:8])
                assert (committed, actual, released) == model.figures(quarter), label
                assert budget - committed - actual + released == remaining == \
                    model.remaining(quarter), label
                closes = ref.closes_at(quarter, reporting,
                                       django_settings.SRM_LEDGER_CLOSE_BUSINESS_DAYS,
                                       django_settings.SRM_DEFAULT_COUNTRY)
                if at >= closes:
                    assert closed_csv.setdefault(label, report[label]) == report[label], label
        transaction.set_rollback(True)
