"""API shapes of the organisation core, and the small references every app's API reuses."""

from __future__ import annotations

from rest_framework import serializers

from governance.choices import MembershipRole
from governance.models import Department, User


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
