"""The account pages of our own, under /accounts/ before Django's (srm/urls.py): sign-in and
sign-out (with the company's identity provider where configured), password reset, API tokens."""

from django.urls import path

from governance import views

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("oidc/authenticate/", views.sso_start, name="oidc_authenticate"),
    path("oidc/callback/", views.sso_callback, name="oidc_callback"),
    path("password_reset/", views.password_reset, name="password_reset"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke_view, name="token_revoke"),
]
