from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from kit.api_views import RestrictedReadOnlyViewSet
from kpis.api.serializers import OutcomeKPIDetailSerializer, OutcomeKPISerializer
from kpis.models import OutcomeKPI
from kpis.selectors import kpi_row


@extend_schema_view(
    list=extend_schema(summary="Outcome KPIs: what each service exists for"),
    retrieve=extend_schema(summary="One outcome KPI, its status, value realisation and snapshots",
                           responses=OutcomeKPIDetailSerializer),
)
@extend_schema(tags=["kpis"])
class OutcomeKPIViewSet(RestrictedReadOnlyViewSet):
    """Every signed-in person may read the organisation's outcome KPIs."""

    model = OutcomeKPI
    serializer_class = OutcomeKPISerializer
    queryset = OutcomeKPI.objects.none()

    def get_queryset(self):
        return (self.restricted().select_related("owner_department")
                .prefetch_related("catalog_items").order_by("name", "id"))

    lookup_value_regex = r"\d+"

    def retrieve(self, request: Request, pk: str) -> Response:
        # The KPI page's own selector: the same status, realisation and history. The lookup
        # first, so an id past the database's integer range is a 404 on every database.
        kpi = self.get_object()
        return Response(OutcomeKPIDetailSerializer(kpi_row(request.user, kpi.pk)).data)
