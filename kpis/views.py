"""KPI pages: the list with status and value realisation, and one KPI's trend (with the
entry form for manual KPIs, for the owner department's head or deputy)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from governance.errors import DomainError
from kit.web import add_field_errors, serves
from kpis.choices import Direction
from kpis.forms import MeasurementForm
from kpis.models import OutcomeKPI
from kpis.selectors import kpi_row, kpi_rows, realization_periods
from kpis.services import kpi_measurement_record


@login_required
@serves(OutcomeKPI)
def kpi_list(request: HttpRequest) -> HttpResponse:
    return render(request, "kpis/kpi_list.html", {
        "rows": kpi_rows(request.user), "periods": realization_periods(),
    })


def _trend_chart(kpi: OutcomeKPI, history) -> dict:
    """The weekly values as a line over the band of values that meet the target (from the
    target up when higher is better, from zero to the target when lower is)."""
    values = [float(s.value) for s in history]
    target = float(kpi.target)
    top = max(values + [target, float(kpi.baseline)]) * 1.1 or 1.0
    low, high = (0.0, target) if kpi.direction == Direction.LOWER_IS_BETTER else (target, top)
    return {
        "type": "line", "unit": kpi.unit,
        "labels": [s.period_start.isoformat() for s in history],
        "datasets": [{"label": kpi.name, "data": values}],
        "band": {"label": gettext("Meets the target"), "low": low, "high": high},
        "max": top,
    }


@login_required
@require_http_methods(["GET", "POST"])
@serves(OutcomeKPI)
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = kpi_row(request.user, pk)
    kpi = row.kpi
    may_record = OutcomeKPI.objects.restrict(request.user, "record").filter(pk=kpi.pk).exists()
    form = MeasurementForm(request.POST or None) if may_record else None
    if request.method == "POST":
        if form is None:
            messages.error(request, gettext("Only the owner department's head enters this KPI."))
            return redirect("kpis:detail", pk=kpi.pk)
        if form.is_valid():
            try:
                kpi_measurement_record(actor=request.user, kpi=kpi,
                                       period_start=form.cleaned_data["period_start"],
                                       value=form.cleaned_data["value"])
            except DomainError as exc:
                add_field_errors(form, exc)
            else:
                messages.success(request, gettext("Measurement recorded."))
                return redirect("kpis:detail", pk=kpi.pk)
    for snapshot in row.history:
        snapshot.meets = kpi.meets_target(snapshot.value)
    chart = _trend_chart(kpi, row.history)
    return render(request, "kpis/kpi_detail.html", {
        "row": row, "kpi": kpi, "form": form, "chart": chart, "periods": realization_periods(),
        "history": list(reversed(row.history)),
    })
