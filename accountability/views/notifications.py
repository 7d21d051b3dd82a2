"""The in-app notification list: what the outbox wrote for the signed-in person."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accountability.models import (
    ALWAYS_EMAILED,
    OPTIONAL_KINDS,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from accountability.services.notifications import (
    notification_mark_read,
    notification_preferences_set,
    notifications_mark_all_read,
)
from governance.errors import DomainError
from kit.web import is_htmx, safe_next, serves

PAGE_SIZE = 25


@require_GET
@login_required
@serves(Notification)
def notification_list(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.restrict(request.user)
    show = "unread" if request.GET.get("show") == "unread" else "all"
    rows = mine.unread() if show == "unread" else mine
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accountability/notifications/list.html", {
        "page": page,
        "show": show,
        "unread_count": mine.unread().count(),
    })


@require_POST
@login_required
@serves(Notification)
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.restrict(request.user, "change"), pk=pk)
    notification_mark_read(actor=request.user, notification=notification)
    if target := safe_next(request, ""):
        return redirect(target)
    if is_htmx(request):
        return render(request, "accountability/notifications/_item.html", {"n": notification})
    return redirect("notifications:list")


@require_POST
@login_required
@serves(why="marks the person's own notifications read (the service reads them by recipient)")
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(actor=request.user)
    messages.success(request, ngettext("Marked %(count)s notification(s) as read.",
                                       "Marked %(count)s notification(s) as read.", count)
                     % {"count": count} if count else gettext("Nothing unread."))
    return redirect("notifications:list")


class PreferencesForm(forms.Form):
    email = forms.MultipleChoiceField(
        choices=[(kind.value, kind.label) for kind in OPTIONAL_KINDS],
        widget=forms.CheckboxSelectMultiple, required=False,
        label=gettext_lazy("Send me an e-mail for"),
    )
    daily_summary = forms.BooleanField(
        required=False,
        label=gettext_lazy("Items waiting for my decision: one summary e-mail a day instead of "
                           "one each"),
    )


@require_http_methods(["GET", "POST"])
@login_required
@serves(NotificationPreference)
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Which notices a person gets by e-mail (in the app they always appear)."""
    saved = NotificationPreference.objects.restrict(request.user).first()
    email_off = set(saved.email_off) if saved else set()
    initial = {"email": [k.value for k in OPTIONAL_KINDS if k not in email_off],
               "daily_summary": bool(saved and saved.daily_summary)}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        wanted = set(form.cleaned_data["email"])
        try:
            notification_preferences_set(
                actor=request.user, email_off=[k.value for k in OPTIONAL_KINDS if k not in wanted],
                daily_summary=form.cleaned_data["daily_summary"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, gettext("Your e-mail preferences are saved."))
            return redirect("notifications:preferences")
    return render(request, "accountability/notifications/preferences.html", {
        "form": form,
        "always": [NotificationKind(k).label for k in NotificationKind if k in ALWAYS_EMAILED],
        "has_address": bool(request.user.email),
    })
