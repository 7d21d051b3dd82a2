from django.contrib import admin

from requests_app.models import CatalogItem, ServiceRequest


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "fulfilling_department", "path", "kpi", "target_cycle_hours",
                    "cost_of_delay_per_day", "is_published", "published_at"]
    list_filter = ["is_published", "fulfilling_department"]
    search_fields = ["code", "name", "description"]
    list_select_related = ["fulfilling_department", "path", "kpi"]
    autocomplete_fields = ["fulfilling_department", "kpi"]
    prepopulated_fields = {"code": ["name"]}
    readonly_fields = ["published_at"]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    """Requests move only through the services; the admin is for looking things up."""

    list_display = ["reference", "title", "requester", "item", "state", "source", "submitted_at",
                    "due_at", "closed_at"]
    list_filter = ["state", "source", "item__fulfilling_department"]
    search_fields = ["reference", "title", "requester__username", "external_key"]
    date_hierarchy = "submitted_at"
    list_select_related = ["requester", "item"]
    show_full_result_count = False
    readonly_fields = [f.name for f in ServiceRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
