"""API shapes of the organisation core, and the small references every app's API reuses."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from governance.choices import MembershipRole
from governance.models import DelayRisk, Department, User


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name"]


class UserRefSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["username", "display_name"]


class MembershipSerializer(serializers.Serializer):
    department = DepartmentRefSerializer()
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class MeSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    department = DepartmentRefSerializer(allow_null=True)
    memberships = MembershipSerializer(many=True)
    leads = DepartmentRefSerializer(
        many=True, help_text="Departments this person heads or deputises for."
    )

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "timezone", "is_ops_leader",
                  "is_superuser", "department", "memberships", "leads"]


class StepRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DelayRiskSerializer(serializers.ModelSerializer):
    request = serializers.CharField(source="request.reference", read_only=True,
                                    help_text="The request's reference.")
    request_title = serializers.CharField(source="request.title", read_only=True)
    step = StepRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    head = UserRefSerializer(read_only=True, allow_null=True)
    # Declared, not derived from the model: the derived bounds differ by database.
    level = serializers.IntegerField(min_value=1, max_value=3, read_only=True,
                                     help_text="1 when detected; rises as the delay grows.")
    is_open = serializers.BooleanField(read_only=True)
    currency = serializers.SerializerMethodField(help_text="The reporting currency of the amounts.")

    class Meta:
        model = DelayRisk
        fields = ["id", "request", "request_title", "step", "department", "head", "level",
                  "is_open", "detected_at", "escalated_at", "refreshed_at", "resolved_at",
                  "overdue_hours", "day_hours", "cost_of_delay_per_day", "exposure", "currency"]

    def get_currency(self, risk: DelayRisk) -> str:
        return settings.SRM_REPORTING_CURRENCY
