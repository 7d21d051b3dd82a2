"""The quarterly cost report page and its CSV / XLSX downloads (the same numbers)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accountability.figures import report_from_figures
from accountability.report import HEADERS, MAX_QUARTERS, report_table
from accountability.scope import departments_in_scope, sees_everything
from accountability.views.dashboard import require_accountability
from governance.models import Department
from kit.exports import CONTENT_TYPES, download
from kit.web import serves

TREND_QUARTERS = 8


def _quarters(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("quarters", 4)), MAX_QUARTERS))
    except ValueError:
        return 4


def _trend_chart(blocks) -> dict:
    """The cost of delay of the last (up to) eight quarters shown, stacked by department:
    the same rows as the tables below, oldest quarter first."""
    shown = list(reversed(blocks[:TREND_QUARTERS]))
    departments = [row.department for row in shown[0].rows] if shown else []
    return {
        "type": "bar", "stacked": True, "unit": settings.SRM_REPORTING_CURRENCY,
        "labels": [block.label for block in shown],
        "datasets": [{"label": department.name,
                      "data": [float(block.rows[i].cost_of_delay) for block in shown]}
                     for i, department in enumerate(departments)],
    }


@login_required
@require_GET
@serves(Department)
def quarterly(request: HttpRequest) -> HttpResponse:
    require_accountability(request.user)
    quarters = _quarters(request)
    blocks, as_of = report_from_figures(list(departments_in_scope(request.user)),
                                        quarters=quarters,
                                        everything=sees_everything(request.user))
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES:
        return download(report_table(blocks), headers=HEADERS, title="Quarterly costs", fmt=fmt,
                        filename=f"srm-quarterly-{timezone.localdate().isoformat()}")
    return render(request, "accountability/report_quarterly.html", {
        "blocks": blocks, "chart": _trend_chart(blocks),
        "csv_url": f"?quarters={quarters}&format=csv", "quarters": quarters, "as_of": as_of, "quarter_choices": [1, 2, 4, 8, 12],
        "currency": settings.SRM_REPORTING_CURRENCY,
        "reporting_timezone": settings.SRM_REPORTING_TIMEZONE,
        "close_days": settings.SRM_LEDGER_CLOSE_BUSINESS_DAYS,
    })
