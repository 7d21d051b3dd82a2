"""A department head with 500 waiting approvals, through the pages (Django's test Client):

- ``inbox.compact_first_page``  ``/approvals/?view=table``: the compact view's first page
  (50 rows) with 500 items waiting; target ≤ 150 ms median. Baseline: ``GET /healthz``
  through the same client (the fixed cost of a request and one query).
- ``inbox.cards_first_page``    the card view's first page of the same inbox, for comparison.
- ``inbox.bulk_approve_50``     one POST to ``/approvals/decide/`` approving 50 selected
  items, each through ``step_approve`` as on its own; target ≤ 2 s. Baseline: the same 50
  approvals one POST at a time (``/approvals/steps/<id>/approve/``), summed — what the head
  clicking through them costs the server.

Each note also gives the median CPU time of this process per operation (``cpu_ms`` in the
JSON): on a shared machine the wall time also counts the waiting for a core; the CPU time
does not (the database server's work is in the wall time only).

The head: of the generated data set's departments, the one whose head has the fewest items
waiting; their department's people submit (``request_submit``) until 500 wait, then more for
the approvals measured. Everything runs inside one transaction that is rolled back at the
end, so the data set is left as it was (work deferred to commit — e-mail, tasks — is not
measured).
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.test import Client

from approvals.choices import StepKind, StepState
from approvals.models import Step
from approvals.selectors import inbox_heading_counts
from bench.context import result, timed_with_cpu
from bench.scenarios._org import answers_for, items
from governance.models import Department, User
from requests_app.services import request_submit

WAITING = 500
BULK = 50
COMPACT_TARGET_MS, BULK_TARGET_MS = 150, 2000


class _Rollback(Exception):
    pass


def _head_with_fewest_waiting() -> Department | None:
    waiting = (Step.objects.filter(accountable_head=OuterRef("head"), state=StepState.ACTIVE,
                                   kind=StepKind.APPROVAL)
               .order_by().values("accountable_head").annotate(n=Count("pk")).values("n"))
    people = (User.objects.filter(department=OuterRef("pk"), is_active=True).order_by()
              .values("department").annotate(n=Count("pk")).values("n"))
    return (Department.objects.filter(head__isnull=False, head__is_active=True)
            .annotate(waiting=Coalesce(Subquery(waiting), 0), people=Subquery(people))
            .filter(people__gte=5).order_by("waiting", "pk").select_related("head").first())


def _get(client: Client, url: str, times: int) -> tuple[list[float], list[float]]:
    def fetch(_: int) -> None:
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    fetch(0)  # warm-up: connection, templates, plan cache
    return timed_with_cpu(fetch, times)


def run(ctx) -> list[dict]:
    size = ctx.sizes[0]
    department = _head_with_fewest_waiting()
    if department is None:
        print("inbox: no department with a head and people in the data set; skipped.",
              file=sys.stderr)
        return []
    rows: list[dict] = []
    try:
        with transaction.atomic():
            rows = _measure(ctx, size, department)
            raise _Rollback
    except _Rollback:
        pass
    for row in rows:
        print(f"{row['scenario']:<26} {row['median_ms']:>9.1f} ms median  ({row['note']})",
              file=sys.stderr)
    return rows


def _measure(ctx, size: int, department: Department) -> list[dict]:
    head = department.head
    rng = random.Random(7)
    people = list(User.objects.filter(department=department, is_active=True)
                  .exclude(pk=head.pk).order_by("pk")[:200])
    catalog = [item for item in items() if not item.records_actual_cost] or items()
    # Below every finance threshold: the head's approval is the request's next decision.
    cost = Decimal("300")

    def submit(count: int) -> list[int]:
        submitted = []
        for _ in range(count):
            item = rng.choice(catalog)
            request = request_submit(actor=rng.choice(people), item=item,
                                     answers=answers_for(item), estimated_cost=cost)
            submitted.append(request.pk)
        return submitted

    # Some items' paths start elsewhere (their first step is not this head's approval).
    waiting = inbox_heading_counts(head)[0]
    for _ in range(5):
        if waiting >= WAITING:
            break
        submit(WAITING - waiting)
        waiting = inbox_heading_counts(head)[0]
    times = 5 if ctx.quick else 20
    client = Client()
    client.force_login(head)
    baseline, _cpu = _get(client, "/healthz", times)
    compact, compact_cpu = _get(client, "/approvals/?view=table", times)
    cards, cards_cpu = _get(client, "/approvals/?view=cards", times)

    repeats = 2 if ctx.quick else 5
    # Some items' paths start elsewhere (their first step is not this head's approval).
    requests: list[int] = []
    steps: list[int] = []
    while len(steps) < BULK * repeats * 2 and len(requests) < BULK * repeats * 6:
        requests += submit(BULK * repeats * 2 - len(steps))
        steps = list(Step.objects.filter(request_id__in=requests, state=StepState.ACTIVE,
                                         kind=StepKind.APPROVAL, accountable_head=head)
                     .order_by("pk").values_list("pk", flat=True))
    batches = [steps[i:i + BULK] for i in range(0, len(steps), BULK)][:repeats * 2]
    if len(batches) < 2 or any(len(b) < BULK for b in batches):
        raise RuntimeError(f"only {len(steps)} approvable steps for {head}")

    def bulk(i: int) -> None:
        response = client.post("/approvals/decide/", {"action": "approve",
                                                       "step": batches[i]}, secure=True)
        if response.status_code != 302:
            raise RuntimeError(f"bulk decision answered {response.status_code}")

    def one_by_one(i: int) -> None:
        for pk in batches[repeats + i]:
            response = client.post(f"/approvals/steps/{pk}/approve/", {"comment": ""},
                                   secure=True)
            if response.status_code != 302:
                raise RuntimeError(f"approve answered {response.status_code}")

    bulk_ms, bulk_cpu = timed_with_cpu(bulk, repeats)
    single_ms, _cpu = timed_with_cpu(one_by_one, repeats)
    left = Step.objects.filter(pk__in=[pk for b in batches for pk in b],
                               state=StepState.ACTIVE).count()
    if left:
        raise RuntimeError(f"{left} of the steps decided are still waiting")
    return [
        result("inbox.compact_first_page", size, compact, baseline="GET /healthz",
               baseline_samples=baseline, cpu_ms=_cpu_ms(compact_cpu),
               note=f"/approvals/?view=table with {waiting} waiting; target ≤ "
                    f"{COMPACT_TARGET_MS} ms: "
                    f"{'met' if _median(compact) <= COMPACT_TARGET_MS else 'MISSED'}; "
                    f"process CPU {_cpu_ms(compact_cpu):.0f} ms"),
        result("inbox.cards_first_page", size, cards, baseline="GET /healthz",
               baseline_samples=baseline, cpu_ms=_cpu_ms(cards_cpu),
               note=f"/approvals/?view=cards with {waiting} waiting; "
                    f"process CPU {_cpu_ms(cards_cpu):.0f} ms"),
        result("inbox.bulk_approve_50", size, bulk_ms,
               baseline=f"{BULK} approvals one POST at a time", baseline_samples=single_ms,
               cpu_ms=_cpu_ms(bulk_cpu),
               note=f"POST /approvals/decide/, {BULK} items, {repeats} runs; target ≤ "
                    f"{BULK_TARGET_MS} ms: "
                    f"{'met' if _median(bulk_ms) <= BULK_TARGET_MS else 'MISSED'}; "
                    f"process CPU {_cpu_ms(bulk_cpu):.0f} ms"),
    ]


def _cpu_ms(samples: list[float]) -> float:
    """The median CPU time of this process per operation: what the page costs the web
    worker, whatever else the machine is doing (the database's work is not in it)."""
    return round(_median(samples), 1)


def _median(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2]
