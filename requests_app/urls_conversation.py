from django.urls import path

from requests_app import views_conversation as views

app_name = "conversation"

urlpatterns = [
    path("portal/requests/<str:reference>/conversation/", views.conversation_page, name="page"),
    path("portal/requests/<str:reference>/comments/", views.comment_create, name="comment"),
    path("portal/requests/<str:reference>/steps/<int:pk>/hold/", views.step_hold_create,
         name="hold"),
    path("portal/requests/<str:reference>/answer/", views.answer_create, name="answer"),
    path("files/<uuid:uuid>/", views.download, name="download"),
]
