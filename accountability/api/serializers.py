"""API shapes of accountability: delay risks, the board's department lines, the quarterly report."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accountability.models import DelayRisk
from governance.api.serializers import DepartmentRefSerializer, UserRefSerializer


class StepRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DelayRiskSerializer(serializers.ModelSerializer):
    request = serializers.CharField(source="request.reference", read_only=True,
                                    help_text="The request's reference.")
    request_title = serializers.CharField(source="request.title", read_only=True)
    step = StepRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    head = UserRefSerializer(read_only=True, allow_null=True,
                             help_text="The head the delay accrues against now.")
    previous_head = UserRefSerializer(
        read_only=True, allow_null=True,
        help_text="The head accountable until head_since (after a change of head).")
    # Declared, not derived from the model: the derived bounds differ by database.
    level = serializers.IntegerField(min_value=1, max_value=3, read_only=True,
                                     help_text="1 when detected; rises as the delay grows.")
    is_open = serializers.BooleanField(read_only=True)
    currency = serializers.SerializerMethodField(help_text="The reporting currency of the amounts.")
    day_hours = serializers.DecimalField(
        max_digits=12, decimal_places=6, read_only=True,
        help_text="The business day in hours (day_seconds ÷ 3600; 08:00–16:20 is 8.333333).")

    class Meta:
        model = DelayRisk
        fields = ["id", "request", "request_title", "step", "department", "head", "level",
                  "is_open", "detected_at", "escalated_at", "refreshed_at", "resolved_at",
                  "overdue_hours", "overdue_seconds", "day_seconds", "day_hours",
                  "cost_of_delay_per_day", "exposure", "posted_until", "currency",
                  "previous_head", "head_since", "previous_heads_exposure"]

    def get_currency(self, risk: DelayRisk) -> str:
        return settings.SRM_REPORTING_CURRENCY


# --- Accountability: the board's department lines and the quarterly report -------------------

def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


def _hours(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True,
                                    help_text=help_text)


class RisksByLevelSerializer(serializers.Serializer):
    level_1 = serializers.IntegerField(source="1")
    level_2 = serializers.IntegerField(source="2")
    level_3 = serializers.IntegerField(source="3")


class DepartmentLineSerializer(serializers.Serializer):
    """One department's line of the accountability board (docs/accountability.md)."""

    department = DepartmentRefSerializer()
    open_steps = serializers.IntegerField(help_text="Active steps the department is accountable for.")
    overdue_steps = serializers.IntegerField(help_text="Of those, past their due time.")
    open_risks = serializers.IntegerField(help_text="Open delay risks charged to the department.")
    risks_by_level = serializers.SerializerMethodField()
    exposure = _money(help_text="Current cost of delay of the open risks.")
    accrued_this_quarter = _money(help_text="Cost of delay accrued this quarter.")
    steps_completed = serializers.IntegerField(help_text="Steps closed in the flow window.")
    steps_breached = serializers.IntegerField(help_text="Of those, closed after their due time.")
    breach_share = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True,
                                            help_text="Percentage of completed steps breached.")
    median_hours = _hours("Median hours in step (flow window).")
    p90_hours = _hours("90th percentile of hours in step (flow window).")
    median_ola_hours = _hours("Median hours the OLA allowed (flow window).")
    handoffs_received = serializers.IntegerField(
        help_text="Steps received from another department (flow window)."
    )

    @extend_schema_field(RisksByLevelSerializer)
    def get_risks_by_level(self, line) -> dict:
        return RisksByLevelSerializer({str(k): v for k, v in line.risks_by_level.items()}).data


class AccountabilityBoardSerializer(serializers.Serializer):
    currency = serializers.CharField()
    flow_days = serializers.IntegerField(help_text="The flow window, in days.")
    figures_as_of = serializers.DateTimeField(
        help_text="The moment the stored figures (flow window, accrued this quarter) describe; "
        "open work, risks and exposure are live.")
    results = DepartmentLineSerializer(
        many=True, help_text="Departments in your scope, ranked as bottlenecks "
        "(exposure, then overdue steps)."
    )


class CostCentreSerializer(DepartmentRefSerializer):
    class Meta(DepartmentRefSerializer.Meta):
        fields = [*DepartmentRefSerializer.Meta.fields, "cost_centre"]


class ReportRowSerializer(serializers.Serializer):
    department = CostCentreSerializer(allow_null=True, help_text="Empty on the total row.")
    submitted = serializers.IntegerField()
    approved_spend = _money()
    fulfilled_spend = _money()
    cost_of_delay = _money(help_text="The quarter's own cost of delay (on the total row: every "
                           "posting of the quarter, adjustments included).")
    delay_adjustments = _money(help_text="Cost of delay posted in this quarter that corrects "
                               "a closed quarter (prior-period adjustments).")
    fulfilled = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True,
                                            help_text="% of fulfilled requests closed on time.")


class QuarterBlockSerializer(serializers.Serializer):
    quarter = serializers.DateField(help_text="First day of the quarter.")
    label = serializers.CharField()
    rows = ReportRowSerializer(many=True)
    adjustments = _money(help_text="The adjustments line: corrections to closed quarters "
                         "posted in this quarter.")
    total = ReportRowSerializer()


class QuarterlyReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    quarters = serializers.IntegerField()
    reporting_timezone = serializers.CharField()
    figures_as_of = serializers.DateTimeField(
        help_text="The oldest moment the quarters shown were computed for.")
    results = QuarterBlockSerializer(many=True, help_text="Quarters, newest first.")


class BudgetRowSerializer(serializers.Serializer):
    department = CostCentreSerializer(allow_null=True, help_text="Empty on the total row.")
    budget = _money()
    committed = _money(help_text="Commitments counting in the quarter (last approvals).")
    actual = _money(help_text="Actual costs of fulfilled requests.")
    released = _money(help_text="Commitments that ended (fulfilled, rejected, cancelled).")
    remaining = _money(help_text="budget − committed − actual + released.")
    used_percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    cost_of_delay = _money(help_text="The cost-of-delay postings of the quarter.")
    over_budget = serializers.IntegerField(help_text="Approvals that went over budget.")
    forecast = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True,
        help_text="Remaining at quarter end once the work in flight is fulfilled (current "
                  "quarter only).")
    overruns = serializers.BooleanField(help_text="Forecast to end the quarter below zero.")


class BudgetBlockSerializer(serializers.Serializer):
    quarter = serializers.DateField(help_text="First day of the quarter.")
    label = serializers.CharField()
    current = serializers.BooleanField()
    rows = BudgetRowSerializer(many=True)
    total = BudgetRowSerializer()


class BudgetReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    quarters = serializers.IntegerField()
    results = BudgetBlockSerializer(many=True, help_text="Quarters, newest first.")
