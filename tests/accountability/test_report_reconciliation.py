"""Property: over random request histories, the quarterly report reconciles — rows add up
to the totals, and each total equals an independent count over the raw records (requests,
steps and cost-of-delay postings) computed here in plain Python.

Delay postings come from two sources here: the histories themselves (a step closed after its
due time records its delay on close, ``risk_resolve_for_step``) and hand-made risks with
arbitrary amounts (``make_risk``). The report's cost of delay must equal every posting in the
quarter, whatever created it, charged to the department of the late step."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accountability.figures import report_from_figures
from accountability.models import DelayPosting
from accountability.report import quarterly_report
from accountability.scope import departments_in_scope
from approvals.choices import StepKind, StepState
from approvals.services import request_cancel, step_approve, step_complete, step_reject
from governance.periods import last_quarters, local_date, quarter_start, start_of
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest
from tests.factories import make_risk

ANSWERS = {"laptop": {"details": "x", "model": "13-inch standard"}, "expenses": {"details": "x"},
           "access": {"details": "x", "system": "CRM"}}
AGENTS = {"IT": "ivan", "FIN": "finn"}

request_spec = st.fixed_dictionaries({
    "requester": st.sampled_from(["alice", "bob", "carol"]),
    "item": st.sampled_from(list(ANSWERS)),
    "cost": st.sampled_from(["0", "1200", "6000.50"]),
    "when": st.floats(min_value=0, max_value=0.97),
    "gaps": st.lists(st.floats(min_value=0.5, max_value=1500), max_size=4),
    "ending": st.sampled_from(["advance", "reject", "cancel"]),
    "delays": st.lists(st.tuples(st.integers(0, 2), st.integers(1, 50000)), max_size=3),
})


def _quarter_of(moment):
    return quarter_start(local_date(moment))


def _play(org, spec, begin, now):
    span = (now - begin).total_seconds()
    at = begin + timedelta(seconds=span * spec["when"])
    request = org.submit(actor=getattr(org, spec["requester"]), item=spec["item"],
                         cost=spec["cost"], answers=ANSWERS[spec["item"]], at=at)
    touched = []
    for n, gap in enumerate(spec["gaps"]):
        at += timedelta(hours=gap)
        step = request.steps.filter(state=StepState.ACTIVE).select_related(
            "accountable_department", "accountable_head").first()
        if step is None or at >= now:
            break
        touched.append(step)
        last = n == len(spec["gaps"]) - 1
        if last and spec["ending"] == "cancel":
            request_cancel(actor=request.requester, request=request, at=at)
        elif step.kind == StepKind.APPROVAL and last and spec["ending"] == "reject":
            step_reject(actor=step.accountable_head, step=step, comment="No budget.", at=at)
        elif step.kind == StepKind.APPROVAL:
            step_approve(actor=step.accountable_head, step=step, at=at)
        else:
            agent = getattr(org, AGENTS[step.accountable_department.code])
            step_complete(actor=agent, step=step, at=at)
    return touched


def _expected(quarters):
    """Independent reference figures per quarter, from the raw rows in Python."""
    expected = {q: defaultdict(Decimal) for q in quarters}
    for posting in DelayPosting.objects.all():
        if posting.quarter in expected:
            kind = "adjusted" if posting.period != posting.quarter else "delay"
            expected[posting.quarter][(kind, posting.department_id)] += posting.amount
    for request in ServiceRequest.objects.prefetch_related("steps"):
        cost = request.estimated_cost or Decimal("0")
        if (q := _quarter_of(request.submitted_at)) in expected:
            expected[q]["submitted"] += 1
        if request.state == RequestState.FULFILLED and (q := _quarter_of(request.closed_at)) in expected:
            expected[q]["fulfilled_spend"] += cost
            expected[q]["fulfilled"] += 1
            expected[q]["on_time"] += request.closed_at <= request.due_at
        applying = [s for s in sorted(request.steps.all(), key=lambda s: s.order)
                    if s.kind == StepKind.APPROVAL and s.state != StepState.SKIPPED]
        approved = applying and applying[-1].state == StepState.APPROVED
        if approved and (q := _quarter_of(applying[-1].completed_at)) in expected:
            expected[q]["approved_spend"] += cost
    return expected


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(request_spec, min_size=1, max_size=5))
def test_the_report_reconciles_with_the_raw_records(org, submit, specs):
    org.submit = submit
    now = timezone.now()
    quarters = last_quarters(3, until=now)
    with transaction.atomic():
        generated = defaultdict(Decimal)
        hand_made = []
        for spec in specs:
            for step in _play(org, spec, start_of(quarters[0]), now):
                accruals = {}
                for index, cents in spec["delays"]:
                    accruals[quarters[index]] = Decimal(cents) / 100
                if accruals:
                    hand_made.append(make_risk(
                        step, detected_at=step.activated_at,
                        accruals={q: str(a) for q, a in accruals.items()}).pk)
                    for q, amount in accruals.items():
                        generated[q] += amount
                break  # at most one risk per request keeps the example small

        blocks = quarterly_report(list(departments_in_scope(org.olivia)), quarters=3, now=now)
        expected = _expected(quarters)
        # Reading every department without a filter gives the same report as listing them.
        assert quarterly_report(list(departments_in_scope(org.olivia)), quarters=3, now=now,
                                everything=True) == blocks
        # The pages' stored copy (computed now, in this transaction) says the same.
        stored, _ = report_from_figures(list(departments_in_scope(org.olivia)), quarters=3,
                                        now=now, everything=True)
        assert stored == blocks

        for block in blocks:
            total = block.total
            fields = ["submitted", "approved_spend", "fulfilled_spend", "delay_adjustments",
                      "fulfilled", "on_time"]
            for name in fields:
                assert getattr(total, name) == sum(getattr(r, name) for r in block.rows), name
            # The total's cost of delay is the rows' plus the adjustments line.
            assert total.cost_of_delay == sum(r.cost_of_delay for r in block.rows) \
                + block.adjustments
            want = expected[block.quarter]
            assert total.submitted == want["submitted"]
            assert total.approved_spend == want["approved_spend"]
            assert total.fulfilled_spend == want["fulfilled_spend"]
            assert (total.fulfilled, total.on_time) == (want["fulfilled"], want["on_time"])
            # Cost of delay: every posting of the quarter, hand-made or posted when a step
            # closed late, each charged to the late step's department.
            postings = DelayPosting.objects.filter(quarter=block.quarter)
            in_quarter = postings.aggregate(s=Sum("amount"))["s"] or Decimal("0")
            assert total.cost_of_delay == in_quarter
            for row in block.rows:
                assert row.cost_of_delay == want[("delay", row.department.pk)], row.department.code
                assert row.delay_adjustments == want[("adjusted", row.department.pk)]
            assert (postings.filter(risk__in=hand_made).aggregate(s=Sum("amount"))["s"]
                    or Decimal("0")) == generated[block.quarter]

        # A head's report is exactly their department's rows of the organisation's report.
        mine = quarterly_report(list(departments_in_scope(org.hank)), quarters=3, now=now)
        for theirs, full in zip(mine, blocks, strict=True):
            full_rows = {r.department.code: r for r in full.rows}
            assert [r.department.code for r in theirs.rows] == ["MKT"]
            assert theirs.rows[0] == full_rows["MKT"]
        transaction.set_rollback(True)
