from django.contrib import admin

from requests_app.models import Attachment, CatalogItem, Comment, ServiceRequest


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "fulfilling_department", "path", "kpi", "target_cycle_hours",
                    "cost_of_delay_per_day", "is_published", "published_at"]
    list_filter = ["is_published", "fulfilling_department"]
    search_fields = ["code", "name", "description", "keywords"]
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


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["original_name", "size", "content_type", "uploaded_by", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Comments are written through the conversation panel so visibility and the audit apply;
    files are downloaded through their protected view, never a public URL."""

    list_display = ["request", "author", "internal", "created_at"]
    list_filter = ["internal"]
    search_fields = ["request__reference", "author__username"]
    list_select_related = ["request", "author"]
    show_full_result_count = False
    readonly_fields = ["request", "author", "body", "internal", "created_at"]
    inlines = [AttachmentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
