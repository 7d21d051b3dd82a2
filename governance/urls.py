"""The account pages of our own, under /accounts/ before Django's (srm/urls.py)."""

from django.urls import path

from governance import views

urlpatterns = [
    path("password_reset/", views.password_reset, name="password_reset"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke_view, name="token_revoke"),
]
