"""The account pages: sign-in's lockout answer and the limited password reset."""

from __future__ import annotations

import math
import time

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from governance import logins
from kit.web import client_ip, serves


def lockout_message(until: float | None) -> str:
    minutes = max(1, math.ceil(((until or time.time()) - time.time()) / 60))
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return (f"Too many failed sign-ins: signing in is locked for {wait}, even with the right "
            "password. Try again then, or ask an administrator to unlock it.")


def signin_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in refused by a lockout (``AXES_LOCKOUT_CALLABLE``): the
    sign-in page again, saying why and for how long, with 429."""
    form = AuthenticationForm(request, data=request.POST or None)
    return TemplateResponse(request, "registration/login.html", {
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
