from django.urls import path

from approvals import views

app_name = "work"

urlpatterns = [
    path("", views.work_queue, name="queue"),
    path("steps/<int:pk>/claim/", views.claim, name="claim"),
    path("steps/<int:pk>/take-over/", views.take_over, name="take_over"),
    path("steps/<int:pk>/complete/", views.complete, name="complete"),
]
