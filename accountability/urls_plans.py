from django.urls import path

from accountability.views import plans as views

app_name = "plans"

urlpatterns = [
    path("plans/", views.plan_list, name="list"),
    path("plans/new/", views.plan_create_view, name="create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="detail"),
    path("plans/<int:plan_id>/edit/", views.plan_edit_view, name="edit"),
    path("plans/<int:plan_id>/workflows/new/", views.workflow_add_view, name="workflow_add"),
    path("workflows/<int:workflow_id>/edit/", views.workflow_edit_view, name="workflow_edit"),
    path("plans/<int:plan_id>/go-live/", views.plan_go_live_view, name="go_live"),
    path("plans/<int:plan_id>/value-realized/", views.plan_value_realized_view,
         name="value_realized"),
    path("plans/<int:plan_id>/abandon/", views.plan_abandon_view, name="abandon"),
    path("plans/<int:plan_id>/import/", views.plan_import, name="import"),
    path("workflows/<int:workflow_id>/retire/", views.workflow_retire_view,
         name="workflow_retire"),
    path("workflows/<int:workflow_id>/keep/", views.workflow_keep_view, name="workflow_keep"),
    path("imports/<int:job_id>/", views.import_job_detail, name="import_job"),
    path("imports/<int:job_id>/progress/", views.import_job_progress, name="import_progress"),
    path("steps/<int:step_id>/outside-decision/", views.outside_decision,
         name="outside_decision"),
]
