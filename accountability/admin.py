from django.contrib import admin

from accountability.models import (
    Budget,
    ChangePlan,
    CommitmentPosting,
    DelayPosting,
    DelayRisk,
    ImportJob,
    InboundMessage,
    LegacyWorkflow,
    Notification,
)
from governance.admin import ReadOnlyAdmin


class LegacyWorkflowInline(admin.TabularInline):
    model = LegacyWorkflow
    extra = 0
    fields = ["name", "channel", "owning_department", "replaced_by", "retire_by", "decision",
              "keep_reason", "retired_on", "evidence"]
    readonly_fields = ["decision", "keep_reason", "retired_on", "evidence"]
    autocomplete_fields = ["owning_department", "replaced_by"]


@admin.register(ChangePlan)
class ChangePlanAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "sponsor", "go_live_on", "value_target_on"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["sponsor"]
    autocomplete_fields = ["sponsor", "items"]
    readonly_fields = ["status", "live_override_justification", "went_live_at", "closed_at",
                       "closing_note", "created_at"]
    inlines = [LegacyWorkflowInline]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "original_name", "item", "status", "total", "imported",
                    "skipped", "error_count"]
    list_filter = ["status"]
    list_select_related = ["item"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DelayPostingInline(admin.TabularInline):
    model = DelayPosting
    fields = ["posted_at", "quarter", "period", "seconds", "amount", "reason", "department",
              "head", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DelayRisk)
class DelayRiskAdmin(ReadOnlyAdmin):
    list_display = ["step", "request", "department", "head", "level", "overdue_hours", "exposure",
                    "detected_at", "resolved_at", "resolution"]
    list_filter = ["level", "department", "resolution"]
    search_fields = ["request__reference", "head__username", "department__code"]
    date_hierarchy = "detected_at"
    list_select_related = ["step", "request", "department", "head"]
    inlines = [DelayPostingInline]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "subject", "email_status", "attempts",
                    "email_sent_at", "read_at"]
    list_filter = ["kind", "email_status"]
    search_fields = ["recipient__username", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    show_full_result_count = False


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "sender", "outcome", "reason", "action", "step", "door",
                    "answer_status"]
    list_filter = ["outcome", "reason", "door", "answer_status"]
    search_fields = ["message_id", "sender", "subject"]
    date_hierarchy = "received_at"
    list_select_related = ["step"]
    show_full_result_count = False


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    """Set by finance controllers on the budgets page (audited), never here."""

    list_display = ["department", "quarter", "amount", "updated_at", "updated_by"]
    list_filter = ["quarter"]
    list_select_related = ["department", "updated_by"]


@admin.register(CommitmentPosting)
class CommitmentPostingAdmin(ReadOnlyAdmin):
    list_display = ["posted_at", "request", "department", "kind", "quarter", "period", "amount",
                    "reason"]
    list_filter = ["kind", "quarter"]
    list_select_related = ["request", "department"]
    raw_id_fields = ["request"]
