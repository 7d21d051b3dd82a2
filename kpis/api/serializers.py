"""API shape of outcome KPIs. The detail adds what the KPI page shows, from the same
selector (``kpis.selectors.kpi_row``): the latest value and status, value realisation and
the weekly snapshots."""

from __future__ import annotations

from rest_framework import serializers

from governance.api.serializers import DepartmentRefSerializer
from kpis.choices import Direction, KPIStatus, Measure, SnapshotSource
from kpis.models import KPISnapshot, OutcomeKPI


class OutcomeKPISerializer(serializers.ModelSerializer):
    direction = serializers.ChoiceField(choices=Direction.choices)
    measure = serializers.ChoiceField(choices=Measure.choices)
    owner_department = DepartmentRefSerializer()
    catalog_items = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True,
        help_text="Codes of the catalog items that serve this outcome.",
    )

    class Meta:
        model = OutcomeKPI
        fields = ["id", "name", "description", "unit", "direction", "baseline", "target",
                  "measure", "owner_department", "catalog_items"]
        read_only_fields = fields


class SnapshotSerializer(serializers.ModelSerializer):
    period_end = serializers.DateField(help_text="First day after the period (an ISO week).")
    source = serializers.ChoiceField(choices=SnapshotSource.choices)

    class Meta:
        model = KPISnapshot
        fields = ["period_start", "period_end", "value", "sample_size", "source"]
        read_only_fields = fields


class RealizationSerializer(serializers.Serializer):
    realised_on = serializers.DateField(
        allow_null=True, help_text="First week of the run of weeks that met the target; "
        "empty while the value is not realised.")
    go_live = serializers.DateField(allow_null=True,
                                    help_text="When the first serving catalog item went live.")
    periods = serializers.IntegerField(help_text="Consecutive weeks on target that count.")
    days_after_go_live = serializers.IntegerField(allow_null=True)


class KPIFiguresSerializer(serializers.Serializer):
    """What the KPI page shows of a ``kpis.selectors.KPIRow``."""

    latest_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    latest_period = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=KPIStatus.choices,
                                     help_text="The latest value against the target.")
    status_label = serializers.CharField()
    realization = RealizationSerializer()
    snapshots = SnapshotSerializer(many=True, source="history",
                                   help_text="Measured value per week, oldest first.")


class OutcomeKPIDetailSerializer(OutcomeKPISerializer, KPIFiguresSerializer):
    """A KPI with its figures; ``instance`` is a ``kpis.selectors.KPIRow``."""

    class Meta(OutcomeKPISerializer.Meta):
        fields = [*OutcomeKPISerializer.Meta.fields, "latest_value", "latest_period", "status",
                  "status_label", "realization", "snapshots"]
        read_only_fields = fields

    def to_representation(self, row):
        return {**OutcomeKPISerializer(row.kpi).data, **KPIFiguresSerializer(row).data}
