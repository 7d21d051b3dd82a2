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
from django.db import transaction
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
from accountability.models.budgets import is_finance_controller
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


def on_request_approved(sender, *, request: ServiceRequest, step, actor: User | None,
                        over_budget_reason: str, at: datetime, **kwargs) -> None:
    """The last approval commits the estimated cost in the quarter of the approval.

    One statement adds the commitment to the cost centre's stored quarter and returns the
    quarter as it now is, holding its row lock to the end of the transaction, so concurrent
    approvals spend the budget one at a time, each seeing the ones before. One that takes the
    remaining budget below zero is taken back and refused unless it carries an over-budget
    reason (and ``SRM_OVER_BUDGET_APPROVAL`` allows it)."""
    cost = request.estimated_cost
    if not cost or CommitmentPosting.objects.filter(request=request,
                                                    kind=CommitmentKind.COMMIT).exists():
        return
    period = current_quarter(at)
    quarter = posting_quarter(period, at=at)
    department_id = request.requester_department_id
    figures = BudgetFigures.objects.add(department_id=department_id, quarter=quarter,
                                        committed=cost, returning=True)
    over = ""
    if figures.budget is not None and figures.remaining < 0:
        remaining = figures.remaining + cost
        department = Department.objects.get(pk=department_id)
        allowed = settings.SRM_OVER_BUDGET_APPROVAL
        if not allowed or not over_budget_reason.strip():
            # Taken back at once, so the figures stay right even for a caller that goes on
            # in the same transaction after the refusal.
            BudgetFigures.objects.add(department_id=department_id, quarter=quarter,
                                      committed=-cost)
            message = over_budget_message(
                department=department, quarter=quarter, remaining=remaining,
                cost=cost, reference=request.reference, allowed=allowed)
            raise OverBudget(message, field_errors={"over_budget_reason": [
                _("Say why it is approved over budget.") if allowed
                else _("The budget is spent.")]})
        over = over_budget_reason.strip()
        BudgetFigures.objects.add(department_id=department_id, quarter=quarter, over_budget=1)
        audit_record(actor=actor, verb=AuditVerb.REQUEST_OVER_BUDGET, target=request,
                     correlation=request.reference, at=at, data={
                         "reason": over, "cost_centre": department.code,
                         "quarter": quarter_label(quarter), "budget": figures.budget,
                         "remaining_before": remaining, "remaining_after": figures.remaining,
                         "step": step.name})
    CommitmentItemFigures.objects.add(department_id=department_id, item_id=request.item_id,
                                      period=period, in_flight=cost)
    _post(request, kind=CommitmentKind.COMMIT, period=period, amount=cost,
          reason=CommitmentReason.APPROVED, at=at, over_budget_reason=over)


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
