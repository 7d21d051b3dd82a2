from django.urls import path

from governance.views import reports

app_name = "reports"

urlpatterns = [
    path("", reports.quarterly, name="quarterly"),
]
