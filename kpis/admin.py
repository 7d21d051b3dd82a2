from django.contrib import admin

from kpis.models import OutcomeKPI


@admin.register(OutcomeKPI)
class OutcomeKPIAdmin(admin.ModelAdmin):
    list_display = ["name", "measure", "unit", "direction", "baseline", "target", "owner_department"]
    list_filter = ["measure", "direction", "owner_department"]
    search_fields = ["name", "description"]
    list_select_related = ["owner_department"]
    autocomplete_fields = ["owner_department"]
