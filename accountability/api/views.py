from __future__ import annotations

import django_filters
from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from accountability.api.serializers import (
    AccountabilityBoardSerializer,
    BudgetReportSerializer,
    DelayRiskSerializer,
    QuarterlyReportSerializer,
)
from accountability.board import FLOW_WINDOW
from accountability.budget_report import budget_blocks, budget_departments
from accountability.figures import board_lines, report_from_figures
from accountability.models import Budget, DelayRisk
from accountability.report import MAX_QUARTERS
from accountability.scope import (
    departments_in_scope,
    may_see_accountability,
    sees_everything,
)
from governance.models import Department
from kit.api import BooleanFilter, FilterSet
from kit.api_views import RestrictedAPIView, RestrictedReadOnlyViewSet


class DelayRiskFilter(FilterSet):
    open = BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", label="Only open (true) or resolved (false)"
    )
    level = django_filters.TypedChoiceFilter(
        choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, label="Escalation level"
    )
    department = django_filters.CharFilter(
        field_name="department__code", label="Accountable department code"
    )

    class Meta:
        model = DelayRisk
        fields = ["open", "level", "department"]


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("level", int, enum=[1, 2, 3], description="Escalation level"),
]))
@extend_schema(tags=["delay-risks"])
class DelayRiskViewSet(RestrictedReadOnlyViewSet):
    """Delays charged in money to the accountable head: what the delay scan found, on the
    requests you may open (a head's board counts those of the departments below)."""

    model = DelayRisk
    serializer_class = DelayRiskSerializer
    filterset_class = DelayRiskFilter
    queryset = DelayRisk.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            self.restricted()
            .select_related("request", "step", "department", "head", "previous_head")
            .order_by("-detected_at", "-id")
        )


def _require_accountability(user) -> None:
    # The pages' rule (accountability.views.dashboard.require_accountability): heads and ops leaders.
    if not may_see_accountability(user):
        raise exceptions.PermissionDenied(
            _("The accountability figures are for ops leaders and department heads.")
        )


class AccountabilityDepartmentsView(RestrictedAPIView):
    serves = (Department,)

    @extend_schema(
        tags=["accountability"], responses=AccountabilityBoardSerializer,
        summary="The accountability board: one line per department in my scope",
        description="The same lines as the /dashboard/ page: ops leaders see every department, "
        "heads the departments they lead and those below; anyone else gets 403.",
    )
    def get(self, request: Request) -> Response:
        _require_accountability(request.user)
        lines, as_of = board_lines(list(departments_in_scope(request.user)),
                                   everything=sees_everything(request.user))
        return Response(AccountabilityBoardSerializer({
            "currency": settings.SRM_REPORTING_CURRENCY, "flow_days": FLOW_WINDOW.days,
            "figures_as_of": as_of, "results": lines,
        }).data)


_QUARTERS = OpenApiParameter(
    "quarters", {"type": "integer", "minimum": 1, "maximum": MAX_QUARTERS, "default": 4},
    description=f"How many quarters, the current one included (1 to {MAX_QUARTERS}; default 4).",
)


class QuarterlyReportView(RestrictedAPIView):
    serves = (Department,)

    @extend_schema(
        tags=["accountability"], responses=QuarterlyReportSerializer, parameters=[_QUARTERS],
        summary="The quarterly cost report for the departments in my scope",
        description="The same rows and totals as the /reports/ page (and its CSV/XLSX).",
    )
    def get(self, request: Request) -> Response:
        _require_accountability(request.user)
        raw = request.query_params.get("quarters", "4")
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_QUARTERS):
            raise exceptions.ValidationError(
                {"quarters": [f"A whole number from 1 to {MAX_QUARTERS}."]}
            )
        blocks, as_of = report_from_figures(list(departments_in_scope(request.user)),
                                            quarters=int(raw),
                                            everything=sees_everything(request.user))
        return Response(QuarterlyReportSerializer({
            "currency": settings.SRM_REPORTING_CURRENCY, "quarters": int(raw),
            "reporting_timezone": settings.SRM_REPORTING_TIMEZONE, "figures_as_of": as_of,
            "results": blocks,
        }).data)


class BudgetReportView(RestrictedAPIView):
    serves = (Budget,)

    @extend_schema(
        tags=["accountability"], responses=BudgetReportSerializer, parameters=[_QUARTERS],
        summary="Budgets per cost centre and quarter, from the commitment ledger",
        description="The same rows and totals as the /reports/budgets/ page (and its "
        "CSV/XLSX): finance controllers and ops leaders see every cost centre, heads their "
        "departments and those below; anyone else gets 403.",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("quarters", "4")
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_QUARTERS):
            raise exceptions.ValidationError(
                {"quarters": [f"A whole number from 1 to {MAX_QUARTERS}."]}
            )
        departments, everything = budget_departments(request.user)
        blocks = budget_blocks(departments, quarters=int(raw), everything=everything)
        return Response(BudgetReportSerializer({
            "currency": settings.SRM_REPORTING_CURRENCY, "quarters": int(raw),
            "results": blocks,
        }).data)
