from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.api.views import (
    AccountabilityDepartmentsView,
    DelayRiskViewSet,
    MeView,
    QuarterlyReportView,
)

router = SimpleRouter()
router.register("delay-risks", DelayRiskViewSet, basename="api-delay-risk")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("accountability/departments/", AccountabilityDepartmentsView.as_view(),
         name="api-accountability-departments"),
    path("reports/quarterly/", QuarterlyReportView.as_view(), name="api-quarterly-report"),
    *router.urls,
]
