from django.urls import path

from accountability.views import budgets, reports

app_name = "reports"

urlpatterns = [
    path("", reports.quarterly, name="quarterly"),
    path("budgets/", budgets.budgets, name="budgets"),
    path("budgets/set/", budgets.budget_save, name="budget_set"),
    path("budgets/import/", budgets.budget_import, name="budget_import"),
]
