"""The navigation bar: only what the person may use, each with its count.

Each area registers one entry in ``NAV``; an entry decides who sees it and counts through the
same selectors its page uses, so a badge never promises what the page then hides.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    # Who sees it: a bool, or a QuerySet (seen when it has a row: asked in the badges'
    # statement, so a rule like "sponsors a change plan" costs no round trip of its own).
    visible: Callable = lambda user: True
    # The badge: an int, or a QuerySet whose rows to count (counted with the others at once).
    count: Callable | None = None
    count_label: str = ""
    alert: bool = False
    # Position in the bar: portal 0–19, approvals/work 20–39, dashboards, reports and
    # notifications later. Equal orders keep registration order.
    order: int = 50
    # In the person's menu (under their name) instead of the bar; no badge there.
    menu: bool = False


# Areas append their entries here (in their AppConfig.ready or this module).
NAV: list[NavEntry] = []


def counted(request: HttpRequest, url_name: str, value: int) -> None:
    """A page that has just counted an entry's badge itself, through the same selector (the
    inbox's heading counts what waits for the person), hands the number to the navigation,
    which then shows it instead of counting it again in the same request."""
    request.__dict__.setdefault("_srm_nav_counted", {})[url_name] = value


def nav(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    known = request.__dict__.get("_srm_nav_counted", {})
    links, menu = [], []
    for entry in sorted(NAV, key=lambda e: e.order):
        visible = entry.visible(user)
        if not isinstance(visible, QuerySet) and not visible:
            continue
        url = _url(entry.url_name)
        if url is None:
            continue
        link = {"key": entry.url_name.replace(":", "-"), "label": entry.label, "url": url,
                "visible": visible}
        if entry.menu:
            menu.append(link)
            continue
        link.update({
            "active": False,
            # An int or a QuerySet.
            "count": (known[entry.url_name] if entry.url_name in known
                      else entry.count(user) if entry.count else None),
            "count_label": entry.count_label,
            "alert": entry.alert,
        })
        links.append(link)
    # Counts and visibility given as querysets are asked together, in one round trip.
    counting = [link for link in links if isinstance(link["count"], QuerySet)]
    asking = [link for link in links + menu if isinstance(link["visible"], QuerySet)]
    counts, seen = ask_together([link["count"] for link in counting],
                                [link["visible"] for link in asking])
    for link, value in zip(counting, counts, strict=True):
        link["count"] = value
    hidden = {id(link) for link, value in zip(asking, seen, strict=True) if not value}
    links = [link for link in links if id(link) not in hidden]
    menu = [link for link in menu if id(link) not in hidden]
    for link in links + menu:
        del link["visible"]
    # Only the most specific entry is current (/portal/requests/ is not also /portal/).
    matching = [link for link in links if request.path.startswith(link["url"])]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    return {"nav_links": links, "nav_menu": menu}


def _url(url_name: str) -> str | None:
    """``reverse(url_name)``, or ``None`` when no URL has that name: reversed once per process
    for each URL configuration and script prefix (the entries take no arguments, so nothing
    else changes them)."""
    return _reversed(url_name, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=1024)
def _reversed(url_name: str, prefix: str, urlconf, root_urlconf: str) -> str | None:
    # The script prefix comes with the request (SCRIPT_NAME): the cache is bounded.
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def count_together(querysets: list[QuerySet]) -> list[int]:
    """``[qs.count() for qs in querysets]`` in one statement: a SELECT of one scalar
    ``COUNT(*)`` subquery per queryset (same FROM and WHERE as ``count()`` runs)."""
    return ask_together(querysets, [])[0]


def ask_together(counted: list[QuerySet],
                 existing: list[QuerySet]) -> tuple[list[int], list[bool]]:
    """``([qs.count() for qs in counted], [qs.exists() for qs in existing])`` in one
    statement: a SELECT of one scalar ``COUNT(*)`` subquery per counted queryset (same FROM
    and WHERE as ``count()`` runs) and one ``EXISTS`` per asked one."""
    answers: list[int | bool | None] = [None] * (len(counted) + len(existing))
    parts, params, positions, database = [], [], [], None
    for position, queryset in enumerate([*counted, *existing]):
        is_count = position < len(counted)
        try:
            if is_count:
                sql, query_params = queryset.order_by().values("pk").query.sql_with_params()
            else:
                sql, query_params = queryset.order_by().values("pk")[:1].query.sql_with_params()
        except EmptyResultSet:  # .none(): nothing to ask the database
            answers[position] = 0 if is_count else False
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS nav_count_{position})" if is_count
                     else f"EXISTS ({sql})")
        params.extend(query_params)
        positions.append(position)
        database = database or queryset.db
    if parts:
        with connections[database].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            for position, value in zip(positions, cursor.fetchone(), strict=True):
                answers[position] = value
    return ([int(value) for value in answers[:len(counted)]],
            [bool(value) for value in answers[len(counted):]])
