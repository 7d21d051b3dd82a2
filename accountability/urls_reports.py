from django.urls import path

from accountability.views import reports

app_name = "reports"

urlpatterns = [
    path("", reports.quarterly, name="quarterly"),
]
