from django.urls import path

from accountability.views import email_actions
from accountability.views import notifications as views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("preferences/", views.notification_preferences, name="preferences"),
    # An e-mail's Approve / Reject / Ask links: GET shows, the POST (token in the body) acts.
    path("act/", email_actions.email_action_confirm, name="act_confirm"),
    path("act/<str:token>/", email_actions.email_action, name="act"),
]
