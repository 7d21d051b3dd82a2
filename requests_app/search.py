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
from django.db.models import Q, QuerySet
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


def _reference_queries(text: str) -> tuple[Q, Q]:
    """(what the text finds among references, the references it names exactly)."""
    if text.isdigit():
        numbered = Q(reference__in=_references_numbered(int(text)))
        return numbered, numbered
    reference = text.upper()
    if reference[:1].isdigit():  # "2026-0003": the year onwards
        reference = f"SR-{reference}"
    return Q(reference__startswith=reference), Q(reference=reference)


def requests_matching(visible: QuerySet[ServiceRequest], text: str) -> QuerySet[ServiceRequest]:
    """The visible requests ``text`` finds, newest first (``requests_found`` puts the
    reference typed ahead)."""
    text = text.strip()
    by_reference, _exact = _reference_queries(text)
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
    return found.filter(by_reference | by_title).order_by("-submitted_at", "-id")


def requests_found(matching: QuerySet[ServiceRequest], text: str, *,
                   limit: int) -> list[ServiceRequest]:
    """The first ``limit`` of ``matching`` (``requests_matching``, as the page wants its
    rows) with the reference ``text`` names first, then the newest.

    Two statements on purpose: with "is it the reference typed" leading the ORDER BY,
    PostgreSQL fetched and sorted every request a common word finds (8,354 for "mark" at
    100,000 requests, 245 ms, growing with the data). Ordered by time alone it walks the
    newest requests (``request_recent``) until it has the page, or reads a rare word's few
    matches from the GIN index; the exact reference is a unique-index lookup."""
    _by_reference, exact = _reference_queries(text.strip())
    first = list(matching.filter(exact)[:limit])
    rest = matching.exclude(pk__in=[request.pk for request in first]) if first else matching
    return first + list(rest[:limit - len(first)])


def catalog_matches(query: str) -> Q:
    """An item found by its name, description, keywords or fulfilling department."""
    return (Q(name__icontains=query) | Q(description__icontains=query)
            | Q(keywords__icontains=query) | Q(fulfilling_department__name__icontains=query))

