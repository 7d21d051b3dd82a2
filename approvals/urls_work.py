from django.urls import path

from approvals import views

app_name = "work"

urlpatterns = [
    path("", views.work_queue, name="queue"),
    path("steps/<int:pk>/claim/", views.claim, name="claim"),
    path("steps/<int:pk>/complete/", views.complete, name="complete"),
]
