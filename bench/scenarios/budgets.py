"""Budgets: the CFO's budget report and what the budget check adds to an approval.

- ``budgets.view``        GET /reports/budgets/ (last four quarters) as the ops leader,
  through Django's test Client; baseline GET /healthz through the same client. Target:
  under 150 ms median at 1,000,000 requests.
- ``budgets.view_report`` GET /reports/ in the same run, for comparison (both read stored
  figures: the budget report the commitment ledger's per cost centre and quarter, and the
  cost of delay from the quarterly report's).
- ``budgets.step_approve`` ``step_approve`` in process on last approval steps with the
  budget check (the cost centre's stored quarter added to and read back under its row lock,
  the commitment posted); baseline the same call on as many other last approval steps with
  the check's receiver disconnected. Target: the check adds at most 1 ms.

The load generator writes requests but no ledger: the first run books the data set's
history once, set-based (a commitment per request in progress or fulfilled, an actual and a
release per request fulfilled, each in the quarter the request was submitted), gives every
department a budget for the last four quarters, and builds the stored figures from the
postings (``budget_figures_rebuild``, as ``verify_budget_figures --repair`` does), so the
report reads the sums of a ledger of the data set's size.
"""

from __future__ import annotations

import statistics
import sys

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client

from accountability.models import (
    Budget,
    BudgetFigures,
    CommitmentKind,
    CommitmentPosting,
    CommitmentReason,
)
from accountability.services import budgets as budget_services
from accountability.services.budget_figures import budget_figures_rebuild
from approvals.choices import StepKind, StepState
from approvals.models import Step
from approvals.services import step_approve
from approvals.signals import request_approved
from bench.context import result, timed
from governance.models import Department, User
from governance.periods import last_quarters
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest

TARGET_MS = 150
CHECK_TARGET_MS = 1.0

# One posting kind per statement: (kind, reason, the request states it applies to).
_BOOK = """
INSERT INTO accountability_commitmentposting
    (request_id, department_id, kind, quarter, period, amount, posted_at, reason,
     over_budget_reason)
SELECT r.id, r.requester_department_id, %s, q.quarter, q.quarter, r.estimated_cost,
       COALESCE(r.closed_at, r.submitted_at), %s, ''
FROM requests_app_servicerequest r
CROSS JOIN LATERAL (SELECT date_trunc('quarter', r.submitted_at AT TIME ZONE %s)::date
                    AS quarter) q
WHERE r.estimated_cost > 0 AND r.state = ANY(%s)
"""
_KINDS = [
    (CommitmentKind.COMMIT, CommitmentReason.APPROVED,
     [RequestState.IN_PROGRESS, RequestState.FULFILLED]),
    (CommitmentKind.ACTUAL, CommitmentReason.FULFILLED, [RequestState.FULFILLED]),
    (CommitmentKind.RELEASE, CommitmentReason.FULFILLED, [RequestState.FULFILLED]),
]


def _book_history() -> int:
    """Book the data set's history into the ledger once (PostgreSQL; set-based), and store
    its sums."""
    if CommitmentPosting.objects.exists():
        if not BudgetFigures.objects.exists():
            budget_figures_rebuild()
        return CommitmentPosting.objects.count()
    booked = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for kind, reason, states in _KINDS:
            cursor.execute(_BOOK, [str(kind), str(reason), settings.SRM_REPORTING_TIMEZONE,
                                   [str(s) for s in states]])
            booked += cursor.rowcount
        for quarter in last_quarters(4):
            for department in Department.objects.all():
                Budget.objects.get_or_create(
                    department=department, quarter=quarter,
                    defaults={"amount": 10**9, "updated_at": "2026-01-01T00:00Z"})
        budget_figures_rebuild()
    return booked


def _last_approvals(count: int) -> list[Step]:
    """Active approval steps with no approval step pending after them (so approving them
    commits), each with its head, a distinct request each."""
    later = Step.objects.filter(state=StepState.PENDING, kind=StepKind.APPROVAL)
    with_later = later.values("request_id")
    return list(
        Step.objects.filter(state=StepState.ACTIVE, kind=StepKind.APPROVAL,
                            accountable_head__isnull=False,
                            request__estimated_cost__gt=0)
        .exclude(request_id__in=with_later)
        .select_related("accountable_head").order_by("-id")[:count]
    )


def _samples(client: Client, url: str, times: int) -> list[float]:
    client.get(url, secure=True)
    return timed(lambda i: _ok(client.get(url, secure=True), url), times)


def _ok(response, url: str) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def run(ctx) -> list[dict]:
    size = ctx.sizes[0] if ctx.sizes else 0
    if connection.vendor != "postgresql" or not ServiceRequest.objects.exists():
        print("budgets: needs the generated data set on PostgreSQL; skipped.", file=sys.stderr)
        return []
    leader = (User.objects.filter(is_ops_leader=True).order_by("pk").first()
              or User.objects.filter(is_superuser=True).order_by("pk").first())
    booked = _book_history()
    times = 5 if ctx.quick else 20
    client = Client()
    client.force_login(leader)
    baseline = _samples(client, "/healthz", times)
    view = _samples(client, "/reports/budgets/?quarters=4", times)
    report = _samples(client, "/reports/?quarters=4", times)
    median = statistics.median(view)
    rows = [
        result("budgets.view", size, view, baseline="GET /healthz", baseline_samples=baseline,
               note=f"/reports/budgets/ over {booked:,} postings; target < {TARGET_MS} ms: "
                    f"{'met' if median < TARGET_MS else 'MISSED'}"),
        result("budgets.view_report", size, report, baseline="GET /healthz",
               baseline_samples=baseline, note="/reports/ (stored figures), same run"),
    ]

    calls = 20 if ctx.quick else 200
    steps = _last_approvals(2 * calls)
    if len(steps) < 2:
        print("budgets: no last approval steps to approve; step_approve skipped.",
              file=sys.stderr)
        return rows
    half = len(steps) // 2
    # Interleaved (every other step of the newest first): the two sides are steps of the same
    # age, so as many of each have a delay risk to resolve, and a page touched by one side's
    # call is as likely to be touched by the other's. Paired: each call with the check right
    # after one without, so a change in the machine's load weighs on both sides alike.
    without, with_check = steps[0:2 * half:2], steps[1:2 * half:2]
    plain: list[float] = []
    checked: list[float] = []
    for bare, step in zip(without, with_check, strict=True):
        request_approved.disconnect(dispatch_uid="accountability.commit")
        try:
            plain += timed(lambda _, s=bare: step_approve(actor=s.accountable_head, step=s), 1)
        finally:
            request_approved.connect(budget_services.on_request_approved,
                                     dispatch_uid="accountability.commit")
        checked += timed(lambda _, s=step: step_approve(actor=s.accountable_head, step=s,
                                                        over_budget_reason="bench"), 1)
    added = statistics.median(checked) - statistics.median(plain)
    commits = (CommitmentPosting.objects.filter(request__in=[s.request_id for s in with_check],
                                                kind=CommitmentKind.COMMIT)
               .aggregate(n=Count("pk"))["n"])
    rows.append(result(
        "budgets.step_approve", size, checked, baseline="step_approve without the budget check",
        baseline_samples=plain,
        note=f"{len(checked)} last approvals, {commits} committed; the check adds "
             f"{added:.2f} ms; target ≤ {CHECK_TARGET_MS} ms: "
             f"{'met' if added <= CHECK_TARGET_MS else 'MISSED'}"))
    for row in rows:
        print(f"{row['scenario']:<22} {row['median_ms']:>9.1f} ms median ({row['note']})",
              file=sys.stderr)
    return rows
