from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.serializers import MeSerializer
from governance.models import Membership, User
from governance.selectors import departments_led_by
from kit.api_views import RestrictedAPIView


class MeView(RestrictedAPIView):
    """The signed-in user, their departments and roles."""

    serves_why = "the signed-in user's own record"

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
