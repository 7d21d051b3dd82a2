from django.urls import path

from accountability.views import dashboard

app_name = "dashboard"

urlpatterns = [
    path("", dashboard.board, name="board"),
    path("departments/<str:code>/", dashboard.department, name="department"),
    path("handoffs/", dashboard.handoffs, name="handoffs"),
]
