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
    # Position in the bar: portal 0–19, approvals/work 20–39, dashboards, reports and
    # notifications later. Equal orders keep registration order.
    order: int = 50


# Areas append their entries here (in their AppConfig.ready or this module).
NAV: list[NavEntry] = []


def nav(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    links = []
    for entry in sorted(NAV, key=lambda e: e.order):
        if not entry.visible(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        links.append({
            "key": entry.url_name.replace(":", "-"),
            "label": entry.label,
            "url": url,
            "active": False,
            "count": entry.count(user) if entry.count else None,
            "count_label": entry.count_label,
            "alert": entry.alert,
        })
    # Only the most specific entry is current (/portal/requests/ is not also /portal/).
    matching = [link for link in links if request.path.startswith(link["url"])]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    return {"nav_links": links}
