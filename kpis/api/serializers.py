"""API shape of outcome KPIs.

Snapshots (the KPI's measured value per period) join this serializer as a ``snapshots`` list
field once ``KPISnapshot`` exists; the rest of the shape stays as it is.
"""

from __future__ import annotations

from rest_framework import serializers

from governance.api.serializers import DepartmentRefSerializer
from kpis.choices import Direction, Measure
from kpis.models import OutcomeKPI


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
