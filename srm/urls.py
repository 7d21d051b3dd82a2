from django.contrib import admin
from django.urls import include, path

from srm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("governance/", include("governance.urls_plans")),
    path("healthz", views.healthz, name="healthz"),
]
