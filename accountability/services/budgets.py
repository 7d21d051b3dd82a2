"""Budgets and the commitment ledger: setting and importing budgets, and the postings the
lifecycle's events write (docs/budgets.md).

- ``budget_set``: a finance controller sets a cost centre's budget for a quarter.
- ``budgets_import``: the same from a CSV/XLSX export, all or nothing, with line-numbered
  errors; idempotent by the budget key (cost centre, quarter).
- ``on_request_approved`` / ``on_request_closed``: the receivers of the lifecycle's events
  that commit, post the actual cost and release, in the transaction of the event.
- ``budget_below_reserve``: the probe behind a path's budget condition.

Postings reuse the cost-of-delay ledger's closing rule (``services.ledger``): a posting
belongs to the budget quarter that funds the request and counts there while it is open; once
it has closed, in the open quarter as an adjustment naming it.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.delays import quarter_of, reporting_tz
from accountability.models import (
    Budget,
    BudgetFigures,
    CommitmentItemFigures,
    CommitmentKind,
    CommitmentPosting,
    CommitmentReason,
    ItemActualFigures,
)
from accountability.models.budgets import SUMS, is_finance_controller
from accountability.services.import_files import (
    FORMATS,
    Columns,
    inspect_file,
    overlong_column,
    read_rows,
    size_refusal,
)
from accountability.services.ledger import posting_quarter
from governance.choices import AuditVerb
from governance.errors import Conflict, ErrorCode, NotAllowed, ValidationFailed
from governance.models import Department, User
from governance.periods import quarter_label
from governance.services.audit import audit_record
from kit.i18n import money_text
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest
from requests_app.money import MoneyFormat, parse_money

ZERO = Decimal("0.00")
BUDGET_COLUMNS = Columns(("cost_centre", "quarter", "amount"),
                         frozenset({"cost_centre", "quarter", "amount", "note"}),
                         hint="use cost_centre, quarter, amount (and note)")
_QUARTER = re.compile(r"\A\s*(\d{4})\s*-?\s*Q([1-4])\s*\Z", re.IGNORECASE)
_QUARTER_REVERSED = re.compile(r"\A\s*Q([1-4])\s*-?\s*(\d{4})\s*\Z", re.IGNORECASE)


class OverBudget(Conflict):
    """Approving would take the cost centre's remaining budget below zero."""

    code = ErrorCode.OVER_BUDGET


def amount_text(value: Decimal) -> str:
    return money_text(value)


# --- Figures: read from the stored sums of the postings ----------------------------------
def used_in(department_id: int, quarter: date) -> Decimal:
    """What the cost centre's postings counting in ``quarter`` take from its budget:
    committed + actual − released (read from the stored figures)."""
    figures = BudgetFigures.objects.filter(department_id=department_id,
                                           quarter=quarter).first()
    return figures.used if figures is not None else ZERO


def current_quarter(at: datetime | None = None) -> date:
    return quarter_of(at or timezone.now(), reporting_tz())


# --- Setting budgets -------------------------------------------------------------------------
def parse_quarter(value: Any, *, field: str = "quarter") -> date:
    """``2027 Q1``, ``2027-Q1``, ``Q1 2027`` or the quarter's first day (``2027-01-01``)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        if value.day == 1 and value.month in (1, 4, 7, 10):
            return value
    else:
        text = "" if value is None else str(value)
        if match := _QUARTER.match(text):
            return date(int(match[1]), 3 * int(match[2]) - 2, 1)
        if match := _QUARTER_REVERSED.match(text):
            return date(int(match[2]), 3 * int(match[1]) - 2, 1)
        try:
            day = date.fromisoformat(text.strip()[:10])
        except ValueError:
            day = None
        if day is not None and day.day == 1 and day.month in (1, 4, 7, 10):
            return day
    raise ValidationFailed(
        _("“%(value)s” is not a quarter: write it as 2027 Q1.") % {"value": str(value)[:40]},
        code="invalid_quarter", field_errors={field: [_("Write the quarter as 2027 Q1.")]})


def _require_finance(actor: User) -> None:
    if not is_finance_controller(actor):
        raise NotAllowed(_("Only finance controllers set budgets."),
                         code="not_finance_controller")


def _amount(value: Any, money: MoneyFormat | None = None) -> Decimal:
    amount = parse_money(value, fmt=money, field="amount", label=_("budget"))
    if amount is None:
        raise ValidationFailed(_("State the budget's amount (0 if none)."), code="invalid_budget",
                               field_errors={"amount": [_("State the amount.")]})
    return amount


def _save_budget(*, actor: User, department: Department, quarter: date, amount: Decimal,
                 at: datetime, source: str) -> Budget | None:
    """Create or change the budget with key (department, quarter), audited; None when it
    already had that amount (nothing changes, nothing is written)."""
    budget = (Budget.objects.select_for_update()
              .filter(department=department, quarter=quarter).first())
    before = budget.amount if budget is not None else None
    if before == amount:
        return None
    if budget is None:
        budget = Budget(department=department, quarter=quarter)
    budget.amount = amount
    budget.updated_at = at
    budget.updated_by = actor
    budget.save()
    audit_record(actor=actor, verb=AuditVerb.BUDGET_SET, target=budget, at=at, data={
        "cost_centre": department.cost_centre or department.code, "quarter": quarter_label(quarter),
        "before": before, "after": amount, "source": source,
    })
    return budget


@transaction.atomic
def budget_set(*, actor: User, department: Department, quarter: Any, amount: Any,
               money: MoneyFormat | None = None, at: datetime | None = None) -> Budget:
    """Set ``department``'s budget for ``quarter`` (created or replaced); ``amount`` is read
    in ``money``'s format (default: the organisation's)."""
    at = at or timezone.now()
    _require_finance(actor)
    quarter = parse_quarter(quarter)
    amount = _amount(amount, money)
    _save_budget(actor=actor, department=department, quarter=quarter, amount=amount, at=at,
                 source="page")
    return Budget.objects.get(department=department, quarter=quarter)


@dataclass(frozen=True)
class BudgetRow:
    line: int
    department: Department
    quarter: date
    amount: Decimal


@dataclass
class BudgetImport:
    rows: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0


def _cost_centres() -> dict[str, Department]:
    """Departments by cost centre code and by department code (case-insensitive)."""
    found: dict[str, Department] = {}
    for department in Department.objects.all():
        found.setdefault(department.code.lower(), department)
    for department in Department.objects.exclude(cost_centre=""):
        found[department.cost_centre.lower()] = department
    return found


def budgets_check(path: str | os.PathLike) -> list[BudgetRow]:
    """Every row of a budget file, checked; ``ValidationFailed`` (``budget_rows_invalid``)
    listing each bad row by its line when any is bad."""
    inspect_file(path)
    centres = _cost_centres()
    rows: list[BudgetRow] = []
    errors: list[str] = []
    seen: dict[tuple[int, date], int] = {}
    for line, raw in read_rows(path, columns=BUDGET_COLUMNS):
        if (column := overlong_column(raw)) is not None:
            errors.append(_("line %(line)s: %(column)s is too long.") % {"line": line,
                                                                        "column": column})
            continue
        problems = []
        code = str(raw.get("cost_centre") or "").strip()
        department = centres.get(code.lower()) if code else None
        if department is None:
            problems.append(_("no cost centre “%(code)s”") % {"code": code[:40]} if code
                            else _("cost_centre is empty"))
        quarter = amount = None
        try:
            quarter = parse_quarter(raw.get("quarter"))
        except ValidationFailed as exc:
            problems.append(exc.message)
        try:
            amount = _amount(raw.get("amount"))
        except ValidationFailed as exc:
            problems.append(exc.message)
        if not problems:
            key = (department.pk, quarter)
            if key in seen:
                problems.append(_("%(centre)s %(quarter)s is already on line %(other)s") % {
                    "centre": code, "quarter": quarter_label(quarter), "other": seen[key]})
            else:
                seen[key] = line
        if problems:
            errors.append(_("line %(line)s: %(problems)s.") % {
                "line": line, "problems": "; ".join(problems)})
        else:
            rows.append(BudgetRow(line, department, quarter, amount))
    if errors:
        shown = errors[: settings.SRM_IMPORT_MAX_ERRORS]
        raise ValidationFailed(
            _("%(count)s bad row(s); nothing was imported: %(errors)s") % {
                "count": len(errors), "errors": " ".join(shown)},
            code="budget_rows_invalid", field_errors={"file": shown})
    if not rows:
        raise ValidationFailed(_("The file has no budget rows."), code="empty_file")
    return rows


@transaction.atomic
def budgets_import(*, actor: User, path: str | os.PathLike,
                   at: datetime | None = None) -> BudgetImport:
    """Import a finance system's budget export (CSV or XLSX; columns ``cost_centre``,
    ``quarter``, ``amount``, optional ``note``). All or nothing: one bad row imports nothing.
    Importing the same file again changes nothing."""
    at = at or timezone.now()
    _require_finance(actor)
    rows = budgets_check(path)
    existing = {(b.department_id, b.quarter): b.amount for b in Budget.objects.filter(
        department_id__in={r.department.pk for r in rows})}
    outcome = BudgetImport(rows=len(rows))
    for row in rows:
        before = existing.get((row.department.pk, row.quarter))
        if _save_budget(actor=actor, department=row.department, quarter=row.quarter,
                        amount=row.amount, at=at, source="import") is None:
            outcome.unchanged += 1
        elif before is None:
            outcome.created += 1
        else:
            outcome.changed += 1
    return outcome


def budgets_import_upload(*, actor: User, upload: UploadedFile,
                          at: datetime | None = None) -> BudgetImport:
    """``budgets_import`` of a file uploaded on the budgets page (copied to a temporary file
    with its suffix, so the reader knows CSV from XLSX; refused before reading when too
    large)."""
    _require_finance(actor)
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in FORMATS:
        raise ValidationFailed(_("Upload a .csv or .xlsx file."), code="unknown_format",
                               field_errors={"file": [_("Upload a .csv or .xlsx file.")]})
    if refusal := size_refusal(upload.size or 0):
        raise ValidationFailed(refusal, code="import_too_large", field_errors={"file": [refusal]})
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        return budgets_import(actor=actor, path=copy.name, at=at)


# --- The commitment ledger -------------------------------------------------------------------
def _post(request: ServiceRequest, *, kind: str, period: date, amount: Decimal, reason: str,
          at: datetime, over_budget_reason: str = "") -> CommitmentPosting:
    """Append one posting. The caller adds it to the stored figures in the same
    transaction."""
    return CommitmentPosting.objects.create(
        request=request, department_id=request.requester_department_id, kind=kind,
        quarter=posting_quarter(period, at=at), period=period, amount=amount, reason=reason,
        posted_at=at, over_budget_reason=over_budget_reason)


def over_budget_message(*, department: Department, quarter: date, remaining: Decimal,
                        cost: Decimal, reference: str, allowed: bool) -> str:
    words = {"centre": department.name, "quarter": quarter_label(quarter),
             "remaining": amount_text(remaining), "cost": amount_text(cost),
             "reference": reference}
    if allowed:
        return _("%(centre)s %(quarter)s has %(remaining)s left and %(reference)s costs "
                 "%(cost)s: approving takes it over budget. Confirm “over budget” and say "
                 "why.") % words
    return _("%(centre)s %(quarter)s has %(remaining)s left and %(reference)s costs "
             "%(cost)s: the budget does not allow it.") % words


@dataclass(frozen=True)
class _Commitment:
    """What the last approval's commitment did: ``committed``, and the cost centre's stored
    quarter — after the commitment when committed, as it stands when refused."""

    committed: bool
    figures: BudgetFigures


def on_request_approved(sender, *, request: ServiceRequest, step, actor: User | None,
                        over_budget_reason: str, at: datetime, **kwargs) -> None:
    """The last approval commits the estimated cost in the quarter of the approval.

    The commitment is added to the cost centre's stored quarter under the row's lock, held to
    the end of the transaction, so concurrent approvals spend the budget one at a time, each
    seeing the ones before. One that would take the remaining budget below zero is refused,
    leaving the figures as they were, unless it carries an over-budget reason (and
    ``SRM_OVER_BUDGET_APPROVAL`` allows it). A request committed before commits nothing
    again (the step actions hold the request's lock, so the test cannot race)."""
    cost = request.estimated_cost
    if not cost:
        return
    period = current_quarter(at)
    quarter = posting_quarter(period, at=at)
    allowed = settings.SRM_OVER_BUDGET_APPROVAL
    reason = over_budget_reason.strip() if allowed else ""
    commit = _commit_in_one_statement if connection.vendor == "postgresql" else _commit_in_steps
    outcome = commit(request, period=period, quarter=quarter, cost=cost, reason=reason, at=at)
    if outcome is None:
        return
    figures = outcome.figures
    if outcome.committed and (figures.budget is None or figures.remaining >= 0):
        return
    department = Department.objects.get(pk=request.requester_department_id)
    if not outcome.committed:
        message = over_budget_message(
            department=department, quarter=quarter, remaining=figures.remaining, cost=cost,
            reference=request.reference, allowed=allowed)
        raise OverBudget(message, field_errors={"over_budget_reason": [
            _("Say why it is approved over budget.") if allowed else _("The budget is spent.")]})
    audit_record(actor=actor, verb=AuditVerb.REQUEST_OVER_BUDGET, target=request,
                 correlation=request.reference, at=at, data={
                     "reason": reason, "cost_centre": department.code,
                     "quarter": quarter_label(quarter), "budget": figures.budget,
                     "remaining_before": figures.remaining + cost,
                     "remaining_after": figures.remaining, "step": step.name})


# One statement on PostgreSQL: unless the request has a commitment already, add the cost to
# the cost centre's stored quarter — only where it has no budget, where the budget allows it
# or with an over-budget reason (the conflicting row is locked either way) —, then, from the
# row that statement returns, add it to the work in flight and append the posting. Every part
# reads the statement's one snapshot, so the budget test is made on the figures row itself,
# in its ``DO UPDATE``, which always sees the row's latest version: a concurrent approval of
# the same cost centre waits for the lock and then sees the commitment before it.
_COMMIT = """
WITH fresh AS (
    SELECT NOT EXISTS (SELECT 1 FROM {posting}
                       WHERE request_id = %(request)s AND kind = %(kind)s) AS is_new
),
figures AS (
    INSERT INTO {figures} AS f
        (department_id, quarter, budget, committed, actual, released, over_budget)
    SELECT %(department)s, %(quarter)s, NULL, %(cost)s, 0, 0, 0 FROM fresh WHERE is_new
    ON CONFLICT (department_id, quarter) DO UPDATE SET
        committed = f.committed + EXCLUDED.committed,
        over_budget = f.over_budget + CASE
            WHEN f.budget - (f.committed + f.actual - f.released) < EXCLUDED.committed
            THEN 1 ELSE 0 END
    WHERE f.budget IS NULL OR %(over)s
        OR f.budget - (f.committed + f.actual - f.released) >= EXCLUDED.committed
    RETURNING f.id, f.budget, f.committed, f.actual, f.released, f.over_budget,
        COALESCE(f.budget - (f.committed + f.actual - f.released) < 0, FALSE) AS over
),
in_flight AS (
    INSERT INTO {items} AS i (department_id, item_id, period, in_flight)
    SELECT %(department)s, %(item)s, %(period)s, %(cost)s FROM figures
    ON CONFLICT (department_id, item_id, period) DO UPDATE SET
        in_flight = i.in_flight + EXCLUDED.in_flight
),
posting AS (
    INSERT INTO {posting} (request_id, department_id, kind, quarter, period, amount,
                           posted_at, reason, over_budget_reason)
    SELECT %(request)s, %(department)s, %(kind)s, %(quarter)s, %(period)s, %(cost)s,
           %(at)s, %(reason)s, CASE WHEN over THEN %(over_reason)s ELSE '' END FROM figures
)
SELECT is_new, id, budget, committed, actual, released, over_budget FROM fresh
LEFT JOIN figures ON TRUE
"""


def _commit_in_one_statement(request: ServiceRequest, *, period: date, quarter: date,
                             cost: Decimal, reason: str, at: datetime) -> _Commitment | None:
    """PostgreSQL: the commitment in one statement (``_COMMIT``); None when the request was
    committed before."""
    department_id = request.requester_department_id
    sql = _COMMIT.format(posting=CommitmentPosting._meta.db_table,
                         figures=BudgetFigures._meta.db_table,
                         items=CommitmentItemFigures._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, {
            "request": request.pk, "kind": str(CommitmentKind.COMMIT),
            "department": department_id, "quarter": quarter, "period": period, "cost": cost,
            "item": request.item_id, "over": bool(reason), "over_reason": reason, "at": at,
            "reason": str(CommitmentReason.APPROVED)})
        is_new, pk, budget, *sums = cursor.fetchone()
    if not is_new:
        return None
    if pk is None:
        # Refused: the row stands as it was, still locked by the statement; read it for the
        # message.
        figures = BudgetFigures.objects.get(department_id=department_id, quarter=quarter)
        return _Commitment(committed=False, figures=figures)
    figures = BudgetFigures(pk=pk, department_id=department_id, quarter=quarter, budget=budget)
    for name, value in zip(SUMS, sums, strict=True):
        setattr(figures, name, value)
    return _Commitment(committed=True, figures=figures)


def _commit_in_steps(request: ServiceRequest, *, period: date, quarter: date, cost: Decimal,
                     reason: str, at: datetime) -> _Commitment | None:
    """SQLite (no data-modifying CTEs; one writer at a time): the same in four statements."""
    if CommitmentPosting.objects.filter(request=request, kind=CommitmentKind.COMMIT).exists():
        return None
    department_id = request.requester_department_id
    figures = BudgetFigures.objects.add(department_id=department_id, quarter=quarter,
                                        committed=cost, returning=True)
    over = figures.budget is not None and figures.remaining < 0
    if over and not reason:
        # Taken back at once, so the figures stay right even for a caller that goes on in the
        # same transaction after the refusal.
        BudgetFigures.objects.add(department_id=department_id, quarter=quarter,
                                  committed=-cost)
        figures.committed -= cost
        return _Commitment(committed=False, figures=figures)
    if over:
        BudgetFigures.objects.add(department_id=department_id, quarter=quarter, over_budget=1)
        figures.over_budget += 1
    CommitmentItemFigures.objects.add(department_id=department_id, item_id=request.item_id,
                                      period=period, in_flight=cost)
    _post(request, kind=CommitmentKind.COMMIT, period=period, amount=cost,
          reason=CommitmentReason.APPROVED, at=at, over_budget_reason=reason if over else "")
    return _Commitment(committed=True, figures=figures)


def on_request_closed(sender, *, request: ServiceRequest, state: str, at: datetime,
                      **kwargs) -> None:
    """Fulfilment posts the actual cost (the recorded actual where the item asks for it, else
    the estimate) and releases the commitment; rejection or cancellation releases it. Both
    count in the budget quarter of the commitment (an adjustment once it has closed)."""
    commitment = (CommitmentPosting.objects.filter(request=request, kind=CommitmentKind.COMMIT)
                  .only("period", "amount").first())
    fulfilled = state == RequestState.FULFILLED
    actual = released = ZERO
    if fulfilled:
        actual = (request.actual_cost if request.item.records_actual_cost
                  and request.actual_cost is not None else request.estimated_cost) or ZERO
        reason = CommitmentReason.FULFILLED
    else:
        reason = (CommitmentReason.REJECTED if state == RequestState.REJECTED
                  else CommitmentReason.CANCELLED)
    period = commitment.period if commitment is not None else current_quarter(at)
    department_id = request.requester_department_id
    if commitment is not None:
        released = commitment.amount
    elif not actual:
        return
    # The figures first, then the postings: the order every writer of both follows.
    BudgetFigures.objects.add(department_id=department_id,
                              quarter=posting_quarter(period, at=at), actual=actual,
                              released=released)
    if commitment is not None:
        CommitmentItemFigures.objects.add(department_id=department_id, item_id=request.item_id,
                                          period=period, in_flight=-released)
        if fulfilled:
            ItemActualFigures.objects.add(item_id=request.item_id, period=period,
                                          estimate=released, actual=actual)
    if actual:
        _post(request, kind=CommitmentKind.ACTUAL, period=period, amount=actual,
              reason=CommitmentReason.FULFILLED, at=at)
    if commitment is not None:
        _post(request, kind=CommitmentKind.RELEASE, period=period, amount=released,
              reason=reason, at=at)


def budget_below_reserve(request: ServiceRequest, cost: Decimal, reserve_percent: Decimal
                         ) -> bool:
    """The path's budget condition: would ``cost`` take the requester's cost centre's
    remaining budget for the current quarter below ``reserve_percent`` of the budget? False
    when the cost centre has no budget for the quarter (nothing to protect)."""
    at = request.submitted_at or timezone.now()
    quarter = posting_quarter(current_quarter(at), at=at)
    figures = BudgetFigures.objects.filter(department_id=request.requester_department_id,
                                           quarter=quarter, budget__isnull=False).first()
    if figures is None:
        return False
    return figures.remaining - cost < figures.budget * reserve_percent / 100


def requests_over_budget(quarter: date) -> Q:
    """Commitments of ``quarter`` approved over budget (a filter on ``CommitmentPosting``)."""
    return Q(quarter=quarter, kind=CommitmentKind.COMMIT) & ~Q(over_budget_reason="")
