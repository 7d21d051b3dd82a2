"""The in-app notification list: what the outbox wrote for the signed-in person."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accountability.models import Notification
from accountability.services.notifications import (
    notification_mark_read,
    notifications_mark_all_read,
)
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
    messages.success(request, f"Marked {count} notification(s) as read." if count
                     else "Nothing unread.")
    return redirect("notifications:list")
