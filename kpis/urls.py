from django.urls import path

from kpis import views

app_name = "kpis"

urlpatterns = [
    path("", views.kpi_list, name="list"),
    path("<int:pk>/", views.kpi_detail, name="detail"),
]
