"""API shapes of the catalog and of service requests."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from approvals.api.serializers import StepSerializer, actions_of, allowed_actions_field
from governance import limits
from governance.api.serializers import DepartmentRefSerializer, UserRefSerializer
from governance.models import AuditEvent
from requests_app.api.money_field import CostField
from requests_app.choices import FieldType, RequestAction, RequestState, Source
from requests_app.models import CatalogItem, ServiceRequest


class FormFieldSerializer(serializers.Serializer):
    """One field of a catalog item's form; ``answers`` are keyed by ``name``."""

    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=FieldType.choices)
    required = serializers.BooleanField(default=False)
    help_text = serializers.CharField(default="", allow_blank=True)
    choices = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="The allowed answers of a `choice` field.")
    max_length = serializers.IntegerField(required=False)
    min = serializers.FloatField(required=False, allow_null=True)
    max = serializers.FloatField(required=False, allow_null=True)


class KPIRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CatalogItemSerializer(serializers.ModelSerializer):
    fulfilling_department = DepartmentRefSerializer()
    kpi = KPIRefSerializer(help_text="The outcome KPI this service exists for.")
    form_fields = FormFieldSerializer(many=True)

    class Meta:
        model = CatalogItem
        fields = ["code", "name", "description", "fulfilling_department", "asks_cost",
                  "target_cycle_hours", "cost_of_delay_per_day", "kpi", "form_fields"]


class StepSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)


class RequestSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", help_text="The catalog item's code.")
    item_name = serializers.CharField(source="item.name")
    state = serializers.ChoiceField(choices=RequestState.choices)
    source = serializers.ChoiceField(choices=Source.choices)
    requester = UserRefSerializer()
    requester_department = DepartmentRefSerializer()
    accountable_department = DepartmentRefSerializer(
        allow_null=True, help_text="The department whose step is active now."
    )
    current_step = StepSummarySerializer(allow_null=True)
    currency = serializers.SerializerMethodField(help_text="The currency of estimated_cost.")
    is_overdue = serializers.BooleanField()
    actual_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True,
        help_text="What it actually cost, stated at fulfilment (items that record it).")
    allowed_actions = allowed_actions_field(RequestAction.choices)

    class Meta:
        model = ServiceRequest
        fields = ["reference", "title", "item", "item_name", "state", "source", "requester",
                  "requester_department", "accountable_department", "current_step",
                  "estimated_cost", "actual_cost", "currency", "submitted_at", "due_at", "closed_at",
                  "is_overdue", "allowed_actions"]
        read_only_fields = fields

    def get_currency(self, request: ServiceRequest) -> str:
        return settings.SRM_REPORTING_CURRENCY

    def get_allowed_actions(self, request: ServiceRequest) -> list[str]:
        return actions_of(self, request)


class TimelineEventSerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at")
    actor = UserRefSerializer(allow_null=True)
    on_behalf_of = UserRefSerializer(allow_null=True)
    subject = serializers.CharField(source="object_repr")
    data = serializers.DictField(help_text="Details of the event (step name, comment, …).")

    class Meta:
        model = AuditEvent
        fields = ["at", "verb", "actor", "on_behalf_of", "subject", "from_state", "to_state",
                  "data"]
        read_only_fields = fields


class RequestDetailSerializer(RequestSerializer):
    answers = serializers.DictField(help_text="The answers to the item's form fields.")
    # The view reads both (``timeline_steps``: prefetched, or the rows submission wrote).
    steps = StepSerializer(many=True, source="timeline_steps")
    timeline = TimelineEventSerializer(many=True, source="timeline_events")

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "answers", "steps", "timeline"]
        read_only_fields = fields


class RequestCreateSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=40, help_text="The code of a published catalog item.")
    title = serializers.CharField(required=False, allow_blank=True, default="",
                                  max_length=limits.TITLE,
                                  help_text="Defaults to the item's name.")
    answers = serializers.DictField(
        required=False, default=dict,
        help_text="Answers keyed by the item's form field names (see the catalog item).",
    )
    estimated_cost = CostField(required=False, allow_null=True, default=None)

    def validate_item(self, code: str) -> CatalogItem:
        user = self.context["request"].user
        item = CatalogItem.objects.restrict(user, "request").filter(code=code).first()
        if item is None:
            raise serializers.ValidationError(
                _("There is no published catalog item “%(code)s”.") % {"code": code})
        return item


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   max_length=limits.CANCEL_REASON)
