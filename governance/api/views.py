from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.serializers import DelayRiskSerializer, MeSerializer
from governance.models import DelayRisk, Membership, User
from governance.selectors import departments_led_by
from srm.api import BooleanFilter, FilterSet


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user, their departments and roles")
    def get(self, request: Request) -> Response:
        user = (
            User.objects.select_related("department")
            .prefetch_related(
                Prefetch("memberships", Membership.objects.select_related("department"))
            )
            .get(pk=request.user.pk)
        )
        user.leads = list(departments_led_by(user))
        return Response(MeSerializer(user).data)


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
class DelayRiskViewSet(viewsets.ReadOnlyModelViewSet):
    """Delays charged in money to the accountable head: what the delay scan found."""

    serializer_class = DelayRiskSerializer
    filterset_class = DelayRiskFilter
    queryset = DelayRisk.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            DelayRisk.objects.restrict(self.request.user)
            .select_related("request", "step", "department", "head")
            .order_by("-detected_at", "-id")
        )
