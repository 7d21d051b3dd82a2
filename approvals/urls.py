from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("steps/<int:pk>/approve/", views.approve, name="approve"),
    path("steps/<int:pk>/reject/", views.reject, name="reject"),
    path("decide/", views.bulk_decide, name="bulk"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:pk>/end/", views.delegation_stop, name="delegation_end"),
]
