from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from governance.models import AuditEvent, Department, Membership, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by services (audit trail, delay scan, outbox): the admin looks, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "get_full_name", "email", "department", "is_ops_leader", "is_active"]
    list_filter = ["is_ops_leader", "is_staff", "is_active", "department"]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["department"]
    autocomplete_fields = ["department"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation", {"fields": ("department", "is_ops_leader", "timezone")}),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "cost_centre", "head", "deputy", "parent", "timezone",
                    "holiday_country"]
    list_filter = ["holiday_country", "timezone"]
    search_fields = ["code", "name", "cost_centre"]
    list_select_related = ["head", "deputy", "parent"]
    autocomplete_fields = ["head", "deputy", "parent"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "cost_centre", "parent")}),
        ("Accountability", {"fields": ("head", "deputy")}),
        ("Business calendar", {"fields": ("timezone", "work_start", "work_end", "work_days",
                                          "holiday_country", "holiday_subdivision")}),
    )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__last_name", "department__name", "department__code"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["user", "department"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["created_at", "verb", "object_repr", "actor", "on_behalf_of", "from_state",
                    "to_state"]
    list_filter = ["verb", "content_type"]
    search_fields = ["object_repr", "correlation", "actor__username", "verb"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "on_behalf_of"]
    show_full_result_count = False



# --- Change plans: configured here; status, decisions and retirements change only through the
# services (the plan page), so they are read-only in the admin.
