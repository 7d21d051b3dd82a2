from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.api.views import DelayRiskViewSet, MeView

router = SimpleRouter()
router.register("delay-risks", DelayRiskViewSet, basename="api-delay-risk")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    *router.urls,
]
