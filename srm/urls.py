from django.contrib import admin
from django.urls import include, path

from srm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", include("governance.urls_dashboard")),
    path("reports/", include("governance.urls_reports")),
    path("kpis/", include("kpis.urls")),
]
