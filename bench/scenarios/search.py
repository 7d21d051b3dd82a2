"""The navigation's search box over every request, through the page (Django's test Client):
``GET /portal/search/?q=…`` as the ops leader, who may see all of them.

- ``search.title_word``       one word typed as a prefix ("lapt")
- ``search.title_words``      two words, each a prefix, in any order
- ``search.reference_number`` a bare number ("301": that number in every year)
- ``search.reference_prefix`` the start of a reference ("SR-2025-00012")
- ``search.all``              every query above in turn; target ≤ 200 ms median

Baseline, in the same run through the same page: the search as a plain ``icontains`` match
on titles and references (what a search box without the full-text and reference indexes
does), swapped in for ``requests_matching``. Terms come from the data set's own titles, so
each query finds something.
"""

from __future__ import annotations

import random
import re
import sys

from django.db.models import Q
from django.test import Client

from bench.context import result, timed_with_cpu
from governance.models import User
from requests_app import views as request_views
from requests_app.models import ServiceRequest

TARGET_MS = 200
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


def _naive(visible, text: str):
    """Titles and references containing every word typed, newest first."""
    match = Q()
    for word in text.split()[:8]:
        match &= Q(title__icontains=word) | Q(reference__icontains=word)
    return visible.filter(match).order_by("-submitted_at", "-id")


def _terms(rng: random.Random) -> dict[str, list[str]]:
    last = ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    titles, references = [], []
    while len(titles) < 10 and last:
        row = (ServiceRequest.objects.filter(pk__gte=rng.randint(1, last)).order_by("pk")
               .values_list("title", "reference").first())
        if row is None:
            continue
        words = _WORD.findall(row[0])
        if len(words) >= 2:
            titles.append(words)
            references.append(row[1])
    return {
        "title_word": [words[0][:4].lower() for words in titles],
        "title_words": [f"{words[1][:5]} {words[0][:3]}".lower() for words in titles],
        "reference_number": [str(int(ref.rsplit("-", 1)[1])) for ref in references],
        "reference_prefix": [ref[:-1] for ref in references],
    }


def run(ctx) -> list[dict]:
    size = ctx.sizes[0]
    leader = (User.objects.filter(is_ops_leader=True, is_active=True).order_by("pk").first()
              or User.objects.filter(is_superuser=True).order_by("pk").first())
    if leader is None or not ServiceRequest.objects.exists():
        print("search: no ops leader or no requests in the data set; skipped.", file=sys.stderr)
        return []
    terms = _terms(random.Random(11))
    client = Client()
    client.force_login(leader)
    rounds = 1 if ctx.quick else 3

    cpu: list[float] = []

    def page(queries: list[str]) -> list[float]:
        def fetch(i: int) -> None:
            response = client.get("/portal/search/", {"q": queries[i % len(queries)]},
                                  secure=True)
            if response.status_code not in (200, 302):
                raise RuntimeError(f"search answered {response.status_code}")

        fetch(0)  # warm-up
        walls, cpus = timed_with_cpu(fetch, len(queries) * rounds)
        cpu.extend(cpus)
        return walls

    fast = {kind: page(queries) for kind, queries in terms.items()}
    fast_cpu = sorted(cpu)[len(cpu) // 2] if cpu else float("nan")
    indexed = request_views.requests_matching
    request_views.requests_matching = _naive
    try:
        slow = {kind: page(queries) for kind, queries in terms.items()}
    finally:
        request_views.requests_matching = indexed
    rows = [
        result(f"search.{kind}", size, fast[kind], baseline="icontains on titles and references",
               baseline_samples=slow[kind], note=f"e.g. q={terms[kind][0]!r}")
        for kind in terms
    ]
    everything = [ms for samples in fast.values() for ms in samples]
    naive = [ms for samples in slow.values() for ms in samples]
    rows.append(result("search.all", size, everything,
                       baseline="icontains on titles and references", baseline_samples=naive,
                       note=f"{len(everything)} searches as the ops leader; target ≤ "
                            f"{TARGET_MS} ms: "
                            f"{'met' if sorted(everything)[len(everything) // 2] <= TARGET_MS else 'MISSED'}"
                            f"; process CPU {fast_cpu:.0f} ms", cpu_ms=round(fast_cpu, 1)))
    for row in rows:
        print(f"{row['scenario']:<26} {row['median_ms']:>9.1f} ms median, baseline "
              f"{row['baseline_median_ms']:>9.1f} ms  ({row['note']})", file=sys.stderr)
    return rows
