"""The navigation bar: only what the person may use, each with its count.

Each area registers one entry in ``NAV``; an entry decides who sees it and counts through the
same selectors its page uses, so a badge never promises what the page then hides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    visible: Callable = lambda user: True
    count: Callable | None = None
    count_label: str = ""
    alert: bool = False


# Areas append their entries here (in their AppConfig.ready or this module).
NAV: list[NavEntry] = []


def nav(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = []
    for entry in NAV:
        if not entry.visible(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        links.append({
            "label": entry.label,
            "url": url,
            "active": request.path.startswith(url),
            "count": entry.count(user) if entry.count else None,
            "count_label": entry.count_label,
            "alert": entry.alert,
        })
    return {"nav_links": links}
