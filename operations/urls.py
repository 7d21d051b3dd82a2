from django.urls import path

from operations import views

urlpatterns = [
    path("live", views.live, name="healthz-live"),
    path("ready", views.ready, name="healthz-ready"),
    path("jobs", views.jobs, name="healthz-jobs"),
]
