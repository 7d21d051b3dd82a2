from rest_framework.routers import SimpleRouter

from kpis.api.views import OutcomeKPIViewSet

router = SimpleRouter()
router.register("kpis", OutcomeKPIViewSet, basename="api-kpi")

urlpatterns = router.urls
