from django.urls import path
from rest_framework.routers import SimpleRouter

from accountability.api.views import (
    AccountabilityDepartmentsView,
    BudgetReportView,
    DelayRiskViewSet,
    QuarterlyReportView,
)

router = SimpleRouter()
router.register("delay-risks", DelayRiskViewSet, basename="api-delay-risk")

urlpatterns = [
    path("accountability/departments/", AccountabilityDepartmentsView.as_view(),
         name="api-accountability-departments"),
    path("reports/quarterly/", QuarterlyReportView.as_view(), name="api-quarterly-report"),
    path("reports/budgets/", BudgetReportView.as_view(), name="api-budget-report"),
    *router.urls,
]
