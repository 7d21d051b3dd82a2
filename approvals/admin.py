from django.contrib import admin

from approvals.models import ApprovalPath, Delegation, Step, StepHold, StepTemplate


class StepTemplateInline(admin.StackedInline):
    """One block per step, each field with its label: readable on a phone and by a screen
    reader (a tabular inline's inputs have only column headings, and it is eight columns
    wide); the department is a plain labelled list (the search widget had no name)."""

    model = StepTemplate
    extra = 0
    fields = [("order", "name"), ("kind", "responsible"), "department",
              ("min_cost", "ola_hours"), "allow_department_approvers"]


@admin.register(ApprovalPath)
class ApprovalPathAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]
    inlines = [StepTemplateInline]


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    """Steps change only through the approvals services; the admin shows them."""

    list_display = ["request", "order", "name", "kind", "state", "accountable_department",
                    "accountable_head", "due_at", "completed_at"]
    list_filter = ["state", "kind", "accountable_department"]
    search_fields = ["request__reference", "name"]
    list_select_related = ["request", "accountable_department", "accountable_head"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Step._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ["delegator", "delegate", "starts_on", "ends_on", "ended_at", "reason"]
    list_filter = ["starts_on"]
    search_fields = ["delegator__username", "delegate__username"]
    list_select_related = ["delegator", "delegate"]
    readonly_fields = ["delegator", "delegate", "starts_on", "ends_on", "reason", "created_at",
                       "ended_at"]

    def has_add_permission(self, request):
        # Created through the approvals inbox so that overlap checks and the audit apply.
        return False


@admin.register(StepHold)
class StepHoldAdmin(admin.ModelAdmin):
    """Holds change only through the approvals services; the admin shows them."""

    list_display = ["step", "asked_by", "started_at", "reminded_at", "answered_at", "cancelled_at",
                    "business_hours"]
    list_filter = ["answered_at", "cancelled_at"]
    search_fields = ["step__request__reference", "asked_by__username"]
    list_select_related = ["step", "asked_by"]
    show_full_result_count = False
    readonly_fields = [f.name for f in StepHold._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
