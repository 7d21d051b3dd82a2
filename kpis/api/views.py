from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from kpis.api.serializers import OutcomeKPISerializer
from kpis.models import OutcomeKPI


@extend_schema_view(
    list=extend_schema(summary="Outcome KPIs: what each service exists for"),
    retrieve=extend_schema(summary="One outcome KPI"),
)
@extend_schema(tags=["kpis"])
class OutcomeKPIViewSet(viewsets.ReadOnlyModelViewSet):
    """Every signed-in person may read the organisation's outcome KPIs."""

    serializer_class = OutcomeKPISerializer
    queryset = (
        OutcomeKPI.objects.select_related("owner_department")
        .prefetch_related("catalog_items")
        .order_by("name", "id")
    )
    lookup_value_regex = r"\d+"
