from rest_framework.routers import SimpleRouter

from approvals.api.views import DelegationViewSet, StepViewSet

router = SimpleRouter()
router.register("steps", StepViewSet, basename="api-step")
router.register("delegations", DelegationViewSet, basename="api-delegation")

urlpatterns = router.urls
