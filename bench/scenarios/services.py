"""``request_submit`` and ``step_approve`` called directly (no HTTP), per call.

Baseline: the same number of rows per transaction written by one bare multi-row INSERT, so
the ratio says what the service layer costs on top of the rows it has to write anyway.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import connection, transaction

from approvals.models import Step
from approvals.services import step_approve
from bench.context import result, timed
from bench.scenarios._org import answers_for, approvable_steps, items, requesters
from governance.models import AuditEvent
from requests_app.models import ServiceRequest
from requests_app.services import request_submit


def _rows() -> int:
    return (ServiceRequest.objects.count() + Step.objects.count() + AuditEvent.objects.count())


def _bare_insert(rows: int, times: int) -> list[float]:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_bare "
                       "(id bigserial primary key, a bigint, b text, c timestamptz)")
    values = ", ".join(["(%s, %s, now())"] * rows)

    def insert(i: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO bench_bare (a, b, c) VALUES {values}",
                           [x for n in range(rows) for x in (i * 100 + n, "SR-bench-row")])

    return timed(insert, times)


def run(ctx) -> list[dict]:
    size = ctx.sizes[0]
    times = 100 if ctx.quick else 1000
    rng = random.Random(5)
    people, catalog = requesters(200), items()
    before = _rows()

    def submit(i: int) -> None:
        item = rng.choice(catalog)
        request_submit(actor=rng.choice(people), item=item, answers=answers_for(item),
                       estimated_cost=Decimal(rng.choice([0, 300, 2500, 8000, 30000])))

    submit_ms = timed(submit, times)
    rows_per_submit = max(1, round((_rows() - before) / times))
    steps = approvable_steps(times)
    before = _rows()
    approve_ms = timed(lambda i: step_approve(actor=steps[i].accountable_head, step=steps[i]),
                       len(steps))
    rows_per_approve = max(1, round((_rows() - before) / max(1, len(steps))))
    return [
        result("services.request_submit", size, submit_ms,
               baseline=f"bare INSERT of {rows_per_submit} rows",
               baseline_samples=_bare_insert(rows_per_submit, times),
               note=f"{len(submit_ms)} calls"),
        result("services.step_approve", size, approve_ms,
               baseline=f"bare INSERT of {rows_per_approve} rows",
               baseline_samples=_bare_insert(rows_per_approve, max(1, len(steps))),
               note=f"{len(approve_ms)} calls"),
    ]
