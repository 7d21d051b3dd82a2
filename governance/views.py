"""The account pages: sign-in (with the company's provider where configured) and its lockout
answer, the limited password reset, API tokens."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from governance import logins
from governance.choices import TokenRevokedBecause
from governance.errors import DomainError
from governance.forms import ApiTokenForm
from governance.identity import oidc
from governance.models import ApiToken
from governance.services.tokens import api_token_create, api_token_revoke
from kit.web import client_ip, domain_error_response, serves


def lockout_message(until: float | None) -> str:
    minutes = max(1, math.ceil(((until or time.time()) - time.time()) / 60))
    return ngettext(
        "Too many failed sign-ins: signing in is locked for a minute, even with the right "
        "password. Try again then, or ask an administrator to unlock it.",
        "Too many failed sign-ins: signing in is locked for %(minutes)s minutes, even with the "
        "right password. Try again then, or ask an administrator to unlock it.",
        minutes) % {"minutes": minutes}


def signin_options() -> dict:
    """What the sign-in page offers: the provider's button (``sso_name``) when OpenID Connect
    is configured; the password form open to all (local passwords or the directory), or only
    folded away for the administrators' break-glass access."""
    return {
        "sso_name": settings.OIDC_PROVIDER_NAME if oidc.configured() else "",
        "passwords_for_all": settings.SRM_LOCAL_PASSWORDS or bool(settings.LDAP_SERVER_URI),
    }


class SignInView(auth_views.LoginView):
    """``/accounts/login/``. Signed in already (Back after working in the app): on to the
    app, not the form again."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **signin_options()}


sign_in = serves(why="the sign-in form: it shows no model's rows")(SignInView.as_view())
sso_start = serves(why="a redirect to the identity provider")(oidc.SignInStart.as_view())
sso_callback = serves(why="the identity provider's answer: signs in, then redirects")(
    oidc.SignInCallback.as_view())
sign_out = serves(why="signs out, then redirects")(oidc.SignOut.as_view())


def signin_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in refused by a lockout (``AXES_LOCKOUT_CALLABLE``): the
    sign-in page again, saying why and for how long, with 429."""
    form = AuthenticationForm(request, data=request.POST or None)
    return TemplateResponse(request, "registration/login.html", {
        **signin_options(),
        "form": form,
        "locked_out": lockout_message(getattr(request, "srm_locked_until", None)),
        "next": request.POST.get("next", ""),
    }, status=429).render()


class LimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, sending at most ``SRM_PASSWORD_RESET_PER_EMAIL`` mails per
    e-mail address and answering at most ``SRM_PASSWORD_RESET_PER_IP`` requests per client
    address in ``SRM_PASSWORD_RESET_WINDOW`` seconds. Past the address's limit nothing is sent
    but the page says the same as always (it never tells whether an account exists)."""

    def form_valid(self, form):
        refused = logins.reset_mail_refused(email=form.cleaned_data["email"],
                                            ip_address=client_ip(self.request))
        if refused == "address":
            form.add_error("email", "Too many password reset requests from your network: try "
                                 "again in an hour, or ask an administrator.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        if refused == "email":
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


password_reset = serves(why="the password reset form: it shows no model's rows")(
    LimitedPasswordResetView.as_view())


# --- API tokens ---------------------------------------------------------------------------------
def _render_tokens(request, form: ApiTokenForm, *, status: int = 200, created=None,
                   secret: str = "") -> HttpResponse:
    tokens = ApiToken.objects.restrict(request.user).order_by("-created_at", "-id")
    response = render(request, "governance/api_tokens.html", {
        "form": form, "tokens": tokens, "created": created, "secret": secret,
        "default_days": settings.SRM_API_TOKEN_DAYS,
    }, status=status)
    # The page may carry a secret: never kept by a browser or proxy cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@serves(ApiToken)
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The person's API tokens: create one (its secret shown on this answer only), revoke."""
    form = ApiTokenForm(request.POST or None)
    if request.method != "POST":
        return _render_tokens(request, form)
    if not form.is_valid():
        return _render_tokens(request, form, status=400)
    try:
        token, secret = api_token_create(user=request.user, name=form.cleaned_data["name"],
                                         days=form.cleaned_data["days"], actor=request.user)
    except DomainError as exc:
        return domain_error_response(request, exc, form=form,
                                     page=lambda status: _render_tokens(request, form,
                                                                        status=status))
    return _render_tokens(request, ApiTokenForm(), status=201, created=token, secret=secret)


@login_required
@require_POST
@serves(ApiToken)
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.restrict(request.user, "revoke"), pk=pk)
    if api_token_revoke(token=token, actor=request.user, because=TokenRevokedBecause.OWNER):
        messages.success(request, gettext("“%(name)s” is revoked: it no longer works.")
                         % {"name": token.name})
    return redirect("tokens")
