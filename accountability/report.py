"""The quarterly cost report: per cost centre (department) and calendar quarter (cut in the
reporting timezone), what was asked for, approved, delivered, how much delay cost and how
much arrived on time. Four grouped queries; rows are every (quarter, department) in scope,
zeros included, and each quarter's total is the sum of its rows.

Attribution (docs/accountability.md): requests, approved and fulfilled spend and the on-time
rate are charged to the **requester's department** (the cost centre that asked and pays);
cost of delay is charged to the **accountable department of the late step** (the department
whose head the delay risk names), in the quarter in which the overdue time passed. Cost of
delay is a sum of postings of the cost-of-delay ledger (``DelayPosting``): the quarter's own
in *cost of delay*, corrections to quarters that had closed in *adjustments*, shown on a line
of their own; the quarter's total is the sum of both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncQuarter
from django.utils import timezone

from accountability.models import DelayPosting
from accountability.scope import within
from approvals.choices import StepKind, StepState
from approvals.models import Step
from governance.models import Department
from governance.periods import last_quarters, next_quarter, quarter_label, reporting_tz, start_of
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest

ZERO = Decimal("0.00")
MAX_QUARTERS = 12


@dataclass
class ReportRow:
    quarter: date
    department: Department | None  # None on a total row
    submitted: int = 0
    approved_spend: Decimal = ZERO
    fulfilled_spend: Decimal = ZERO
    cost_of_delay: Decimal = ZERO
    # Postings of this quarter correcting closed quarters (prior-period adjustments).
    delay_adjustments: Decimal = ZERO
    fulfilled: int = 0
    on_time: int = 0

    @property
    def on_time_rate(self) -> Decimal | None:
        """Share of the requests fulfilled in the quarter that closed by their due time (%)."""
        if not self.fulfilled:
            return None
        return (Decimal(100 * self.on_time) / self.fulfilled).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, other: ReportRow) -> None:
        self.submitted += other.submitted
        self.approved_spend += other.approved_spend
        self.fulfilled_spend += other.fulfilled_spend
        self.cost_of_delay += other.cost_of_delay
        self.delay_adjustments += other.delay_adjustments
        self.fulfilled += other.fulfilled
        self.on_time += other.on_time


@dataclass
class QuarterBlock:
    quarter: date
    rows: list[ReportRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)

    @property
    def anchor(self) -> str:
        """The id of the quarter's heading on the report page."""
        return f"q-{self.quarter.isoformat()}"

    @property
    def adjustments(self) -> Decimal:
        """Cost of delay posted in this quarter as corrections to closed quarters."""
        return sum((row.delay_adjustments for row in self.rows), ZERO)

    @property
    def total(self) -> ReportRow:
        """The sum of the rows and of the adjustments line: every posting of the quarter."""
        total = ReportRow(quarter=self.quarter, department=None)
        for row in self.rows:
            total.add(row)
        total.cost_of_delay += total.delay_adjustments
        return total


def _quarter(value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(reporting_tz()).date()
    return value


def quarterly_report(departments: list[Department], *, quarters: int = 4,
                     now: datetime | None = None, everything: bool = False) -> list[QuarterBlock]:
    """The last ``quarters`` quarters (the current one included), newest first, computed
    from the lifecycle now (``figures.report_from_figures`` reads the stored copy)."""
    now = now or timezone.now()
    quarters = max(1, min(quarters, MAX_QUARTERS))
    starts = last_quarters(quarters, until=now)
    found = quarter_cells(starts, [d.pk for d in departments], everything=everything)
    return report_blocks(starts, departments, found)


def report_blocks(starts: list[date], departments: list[Department],
                  found: dict[tuple[date, int], ReportRow]) -> list[QuarterBlock]:
    """Blocks newest first, one row per department in every quarter (zeros included)."""
    blocks = []
    for q in reversed(starts):
        rows = []
        for d in departments:
            row = found.get((q, d.pk))
            if row is None:
                row = ReportRow(quarter=q, department=d)
            else:
                row.department = d
            rows.append(row)
        blocks.append(QuarterBlock(quarter=q, rows=rows))
    return blocks


def quarter_cells(starts: list[date], ids, *, everything: bool = False
                  ) -> dict[tuple[date, int], ReportRow]:
    """``{(quarter, department id): ReportRow}`` for the quarters ``starts`` (oldest first),
    cells with nothing in them left out. Four grouped queries."""

    wanted = set(starts)
    begin, end = start_of(min(wanted)), start_of(next_quarter(max(wanted)))
    tz = reporting_tz()
    cells: dict[tuple[date, int], ReportRow] = {}

    def cell(quarter, department_id) -> ReportRow | None:
        q = _quarter(quarter)
        if q not in wanted:
            return None
        return cells.setdefault((q, department_id), ReportRow(quarter=q, department=None))

    requests = within(ServiceRequest.objects.all(), "requester_department", ids,
                      everything=everything)
    for row in (requests.filter(submitted_at__gte=begin, submitted_at__lt=end)
                .annotate(q=TruncQuarter("submitted_at", tzinfo=tz))
                .values("q", "requester_department").order_by().annotate(n=Count("pk"))):
        if c := cell(row["q"], row["requester_department"]):
            c.submitted = row["n"]

    # Approved spend counts when the request's last approval step is approved: an approved
    # approval step with no later approval step that still applies (pending, active,
    # rejected or cancelled — skipped ones never applied).
    later_approval = Step.objects.filter(
        request=OuterRef("request"), kind=StepKind.APPROVAL, order__gt=OuterRef("order"),
    ).exclude(state=StepState.SKIPPED)
    approvals = Step.objects.filter(kind=StepKind.APPROVAL, state=StepState.APPROVED,
                                    completed_at__gte=begin, completed_at__lt=end)
    for row in (within(approvals, "request__requester_department", ids, everything=everything)
                .exclude(Exists(later_approval))
                .annotate(q=TruncQuarter("completed_at", tzinfo=tz))
                .values("q", "request__requester_department").order_by()
                .annotate(spend=Sum("request__estimated_cost"))):
        if c := cell(row["q"], row["request__requester_department"]):
            c.approved_spend = row["spend"] or ZERO

    for row in (requests.filter(state=RequestState.FULFILLED, closed_at__gte=begin,
                                closed_at__lt=end)
                .annotate(q=TruncQuarter("closed_at", tzinfo=tz))
                .values("q", "requester_department").order_by()
                .annotate(spend=Sum("estimated_cost"), n=Count("pk"),
                          on_time=Count("pk", filter=Q(closed_at__lte=F("due_at"))))):
        if c := cell(row["q"], row["requester_department"]):
            c.fulfilled_spend, c.fulfilled, c.on_time = row["spend"] or ZERO, row["n"], row["on_time"]

    postings = DelayPosting.objects.filter(quarter__in=starts)
    for row in (within(postings, "department", ids, everything=everything)
                .values("quarter", "department").order_by()
                .annotate(own=Sum("amount", filter=Q(period=F("quarter"))),
                          adjusted=Sum("amount", filter=~Q(period=F("quarter"))))):
        if c := cell(row["quarter"], row["department"]):
            c.cost_of_delay = row["own"] or ZERO
            c.delay_adjustments = row["adjusted"] or ZERO
    return cells


HEADERS = ["Quarter", "Cost centre", "Department", "Requests submitted", "Approved spend",
           "Fulfilled spend", "Cost of delay", "Requests fulfilled", "Fulfilled on time",
           "On-time rate (%)"]


ADJUSTMENTS_LABEL = "Adjustments to closed quarters"


def report_table(blocks: list[QuarterBlock]) -> list[list[str]]:
    """The report as rows of display strings, exactly as the page shows them (for CSV/XLSX)."""
    table = []
    for block in blocks:
        for row in block.rows:
            table.append(_cells(block, row))
        table.append([block.label, "", ADJUSTMENTS_LABEL, "", "", "",
                      f"{block.adjustments:.2f}", "", "", ""])
        table.append(_cells(block, block.total))
    return table


def _cells(block: QuarterBlock, row: ReportRow) -> list[str]:
    department = row.department
    return [
        block.label,
        department.cost_centre if department else "",
        department.name if department else "Total",
        str(row.submitted),
        f"{row.approved_spend:.2f}",
        f"{row.fulfilled_spend:.2f}",
        f"{row.cost_of_delay:.2f}",
        str(row.fulfilled),
        str(row.on_time),
        "" if row.on_time_rate is None else f"{row.on_time_rate}",
    ]
