"""API shapes of steps and delegations."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from approvals.choices import DecisionChannel, StepAction, StepKind, StepState
from approvals.models import Delegation, Step, StepHold
from governance import limits
from governance.api.serializers import DepartmentRefSerializer, UserRefSerializer
from governance.models import User
from requests_app.api.money_field import ActualCostField


def allowed_actions_field(choices) -> serializers.SerializerMethodField:
    """``allowed_actions``: what the caller may do to the object now, from the model's
    ``allowed_actions(user)`` (the same rules the services apply)."""
    return extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=choices))
    )(serializers.SerializerMethodField(
        help_text="What you may do now; each is an action of this API that will accept it "
        "(others answer 403 or 409)."))


def actions_of(serializer: serializers.Serializer, obj) -> list[str]:
    request = serializer.context.get("request")
    return obj.allowed_actions(request.user) if request is not None else []


class StepSerializer(serializers.ModelSerializer):
    request = serializers.CharField(source="request.reference", read_only=True,
                                    help_text="The request's reference.")
    request_title = serializers.CharField(source="request.title", read_only=True)
    kind = serializers.ChoiceField(choices=StepKind.choices, read_only=True)
    state = serializers.ChoiceField(choices=StepState.choices, read_only=True)
    accountable_department = DepartmentRefSerializer(read_only=True)
    accountable_head = UserRefSerializer(read_only=True, allow_null=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    acted_for = UserRefSerializer(read_only=True, allow_null=True,
                                  help_text="The head a delegate decided for.")
    is_overdue = serializers.BooleanField(read_only=True)
    channel = serializers.ChoiceField(
        choices=[("", ""), *DecisionChannel.choices], read_only=True,
        help_text="Where the decision was taken: page, email_link, email_reply or api; empty "
        "while undecided, for execution steps and decisions recorded as taken outside SRM.")
    allowed_actions = allowed_actions_field(StepAction.choices)

    class Meta:
        model = Step
        fields = ["id", "request", "request_title", "order", "name", "kind", "state",
                  "accountable_department", "accountable_head", "assignee", "ola_hours",
                  "activated_at", "due_at", "completed_at", "is_overdue", "decided_by",
                  "acted_for", "channel", "comment", "allowed_actions"]
        read_only_fields = fields

    def get_allowed_actions(self, step: Step) -> list[str]:
        return actions_of(self, step)


STEP_RELATED = ("request", "accountable_department", "accountable_head", "assignee",
                "decided_by", "acted_for")


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=limits.DECISION_COMMENT)
    over_budget_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.DECISION_COMMENT,
        help_text="Why the last approval goes over the cost centre's remaining budget. Without "
                  "it such an approval is refused (409 over_budget).")


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(
        allow_blank=True, max_length=limits.DECISION_COMMENT,
        help_text="Required: the requester needs the reason."
    )


class TakeOverSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   max_length=limits.DECISION_COMMENT,
                                   help_text="Why you take it over (kept in the history).")


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=limits.DECISION_COMMENT)
    actual_cost = ActualCostField(required=False, allow_null=True, default=None)


class DelegationSerializer(serializers.ModelSerializer):
    delegator = UserRefSerializer(read_only=True)
    delegate = UserRefSerializer(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Delegation
        fields = ["id", "delegator", "delegate", "starts_on", "ends_on", "reason", "is_active",
                  "created_at", "ended_at"]
        read_only_fields = fields


class DelegationCreateSerializer(serializers.Serializer):
    delegate = serializers.CharField(
        max_length=150, help_text="Username of the person who may decide your approvals."
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   max_length=limits.DELEGATION_REASON)

    def validate_delegate(self, username: str) -> User:
        # A CharField, not a SlugRelatedField: it refuses NUL bytes before they reach the database.
        user = User.objects.filter(username=username).first()
        if user is None:
            raise serializers.ValidationError(
                _("Nobody has the username “%(username)s”.") % {"username": username})
        return user


class HoldSerializer(serializers.ModelSerializer):
    """A question that put a step on hold (its clock stopped) until the requester answers."""

    step = serializers.IntegerField(source="step_id", read_only=True)
    request = serializers.CharField(source="step.request.reference", read_only=True)
    asked_by = UserRefSerializer(read_only=True)
    answered_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = StepHold
        fields = ["id", "step", "request", "asked_by", "question", "started_at", "remind_at",
                  "expires_at", "answered_at", "answered_by", "answer", "business_hours"]
        read_only_fields = fields


class HoldCreateSerializer(serializers.Serializer):
    question = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                     help_text="What the requester should answer.")
