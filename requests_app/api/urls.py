from django.urls import path
from rest_framework.routers import SimpleRouter

from requests_app.api.conversation import AttachmentDownloadView
from requests_app.api.views import CatalogItemViewSet, RequestViewSet

router = SimpleRouter()
router.register("catalog-items", CatalogItemViewSet, basename="api-catalog-item")
router.register("requests", RequestViewSet, basename="api-request")

urlpatterns = [
    *router.urls,
    path("attachments/<uuid:uuid>/download/", AttachmentDownloadView.as_view(),
         name="api-attachment-download"),
]

