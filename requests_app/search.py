"""Finding requests and catalog items by what people type in the search box.

References: a whole or partial reference (``SR-2026-0003``) by its prefix, and a bare number
(``301``) as that number in every year SRM has handed out references — both through the
reference's unique index. Titles: on PostgreSQL a full-text match of every word typed as a
prefix (``note lapt`` finds "Notebook for the new laptop cart") through the GIN index on
``to_tsvector('simple', title)`` (migration ``0006_request_title_search``); on SQLite (the
embedded default) every word with ``icontains``.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from requests_app.models import RequestCounter, ServiceRequest

# The configuration the index is built with: words as typed, no language stemming, so a
# reference-like token or a product name is found as written in any language.
TEXT_SEARCH_CONFIG = "simple"
MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def _references_numbered(number: int) -> list[str]:
    years = set(RequestCounter.objects.values_list("year", flat=True))
    years.add(timezone.localdate().year)
    return [f"SR-{year}-{number:06d}" for year in sorted(years)]


def _prefix_query(text: str) -> SearchQuery | None:
    words = _WORD.findall(text.lower())[:MAX_TERMS]
    if not words:
        return None
    # Each word is made of \w characters only, so nothing in it is tsquery syntax.
    return SearchQuery(" & ".join(f"{word}:*" for word in words), config=TEXT_SEARCH_CONFIG,
                       search_type="raw")


def requests_matching(visible: QuerySet[ServiceRequest], text: str) -> QuerySet[ServiceRequest]:
    """The visible requests ``text`` finds, the exact reference first, then the newest."""
    text = text.strip()
    if text.isdigit():
        by_reference = Q(reference__in=_references_numbered(int(text)))
        exact = by_reference
    else:
        reference = text.upper()
        if reference[:1].isdigit():  # "2026-0003": the year onwards
            reference = f"SR-{reference}"
        by_reference = Q(reference__startswith=reference)
        exact = Q(reference=reference)
    if connections[visible.db].vendor == "postgresql":
        query = _prefix_query(text)
        found = visible.alias(title_words=SearchVector("title", config=TEXT_SEARCH_CONFIG))
        by_title = Q(title_words=query) if query is not None else Q(pk__in=[])
    else:
        found, by_title = visible, Q(pk__in=[])
        words = _WORD.findall(text)[:MAX_TERMS]
        if words:
            by_title = Q()
            for word in words:
                by_title &= Q(title__icontains=word)
    return (found.filter(by_reference | by_title)
            .annotate(exact=Case(When(exact, then=Value(0)), default=Value(1)))
            .order_by("exact", "-submitted_at", "-id"))


def catalog_matches(query: str) -> Q:
    """An item found by its name, description, keywords or fulfilling department."""
    return (Q(name__icontains=query) | Q(description__icontains=query)
            | Q(keywords__icontains=query) | Q(fulfilling_department__name__icontains=query))

