"""The budget report (the CFO's view) and its CSV/XLSX, and where finance controllers set and
import budgets. Views translate: the rule, the selector, the service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accountability.budget_report import (
    HEADERS,
    MAX_QUARTERS,
    budget_blocks,
    budget_departments,
    budget_table,
    trend,
)
from accountability.forms_budgets import BudgetForm, BudgetImportForm
from accountability.models import Budget
from accountability.models.budgets import is_finance_controller
from accountability.services.budgets import budget_set, budgets_import_upload
from governance.errors import DomainError
from governance.models import Department
from kit.exports import CONTENT_TYPES, download
from kit.web import add_field_errors, serves
from requests_app.money import money_format_for

QUARTER_CHOICES = [1, 2, 4, 8, 12]


def quarters_asked(raw: str | None, default: int = 4) -> int:
    try:
        return max(1, min(int(raw or default), MAX_QUARTERS))
    except ValueError:
        return default


def _render(request: HttpRequest, *, form=None, import_form=None, status: int = 200):
    departments, everything = budget_departments(request.user)
    quarters = quarters_asked(request.GET.get("quarters"))
    blocks = budget_blocks(departments, quarters=quarters, everything=everything)
    finance = is_finance_controller(request.user)
    current = next((b for b in blocks if b.current), None)
    return render(request, "accountability/report_budgets.html", {
        "blocks": blocks, "quarters": quarters, "quarter_choices": QUARTER_CHOICES,
        "chart": trend(blocks), "currency": settings.SRM_REPORTING_CURRENCY,
        "close_days": settings.SRM_LEDGER_CLOSE_BUSINESS_DAYS,
        "overruns": [row for row in current.rows if row.overruns] if current else [],
        "finance": finance,
        "form": form or (BudgetForm(departments=Department.objects.all()) if finance else None),
        "import_form": import_form or (BudgetImportForm() if finance else None),
    }, status=status)


@login_required
@require_GET
@serves(Budget)
def budgets(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES:
        departments, everything = budget_departments(request.user)
        blocks = budget_blocks(departments, quarters=quarters_asked(request.GET.get("quarters")),
                               everything=everything)
        return download(budget_table(blocks), headers=[str(h) for h in HEADERS],
                        title=_("Budgets"), fmt=fmt,
                        filename=f"srm-budgets-{timezone.localdate().isoformat()}")
    return _render(request)


def _finance_only(request: HttpRequest) -> None:
    Budget.objects.restrict(request.user, "change")  # the rule that decides, noted
    if not is_finance_controller(request.user):
        raise PermissionDenied(_("Only finance controllers set budgets."))


@login_required
@require_POST
@serves(Budget)
def budget_save(request: HttpRequest) -> HttpResponse:
    _finance_only(request)
    form = BudgetForm(request.POST, departments=Department.objects.all())
    if form.is_valid():
        try:
            budget = budget_set(actor=request.user, department=form.cleaned_data["department"],
                                quarter=form.cleaned_data["quarter"],
                                amount=form.cleaned_data["amount"],
                                money=money_format_for(request))
        except DomainError as exc:
            add_field_errors(form, exc)
            return _render(request, form=form, status=exc.status)
        messages.success(request, _("%(department)s %(quarter)s: budget %(amount)s saved.") % {
            "department": budget.department, "quarter": form.cleaned_data["quarter"],
            "amount": f"{budget.amount:,.2f} {settings.SRM_REPORTING_CURRENCY}"})
        return redirect(reverse("reports:budgets"))
    return _render(request, form=form, status=400)


@login_required
@require_POST
@serves(Budget)
def budget_import(request: HttpRequest) -> HttpResponse:
    _finance_only(request)
    form = BudgetImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            outcome = budgets_import_upload(actor=request.user, upload=form.cleaned_data["file"])
        except DomainError as exc:
            add_field_errors(form, exc)
            return _render(request, import_form=form, status=exc.status)
        messages.success(request, _(
            "%(rows)s budget rows read: %(created)s new, %(changed)s changed, %(unchanged)s "
            "unchanged.") % vars(outcome))
        return redirect(reverse("reports:budgets"))
    return _render(request, import_form=form, status=400)
