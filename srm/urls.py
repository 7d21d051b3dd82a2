from django.contrib import admin
from django.urls import include, path

from srm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("portal/", include("requests_app.urls")),
    path("approvals/", include("approvals.urls")),
    path("work/", include("approvals.urls_work")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
