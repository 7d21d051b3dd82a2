"""The budget figures recomputed from the commitment ledger: to verify the stored sums
(``BudgetFigures``, ``CommitmentItemFigures``, ``ItemActualFigures``) against the postings
they sum, and to rebuild
them from the postings when they do not agree (``python manage.py verify_budget_figures
[--repair]``; the bench after booking a history in bulk).

The stored rows are kept in the transaction of each posting, so a difference means something
wrote postings or budgets around the services (a bulk load, a manual correction); the
ledger and the budgets are the truth and the repair rewrites the figures from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum

from accountability.models import (
    Budget,
    BudgetFigures,
    CommitmentItemFigures,
    CommitmentKind,
    CommitmentPosting,
    CommitmentReason,
    ItemActualFigures,
)

ZERO = Decimal("0.00")
BudgetKey = tuple[int, date]
FlightKey = tuple[int, int, date]
ItemKey = tuple[int, date]


@dataclass(frozen=True)
class Difference:
    family: str  # "budget" or "item"
    key: tuple
    stored: tuple
    ledger: tuple

    def __str__(self) -> str:
        return f"{self.family} {self.key}: stored {self.stored}, ledger {self.ledger}"


def budget_sums() -> dict[BudgetKey, tuple]:
    """Per (cost centre, quarter): (budget, committed, actual, released, over-budget
    approvals) from the budgets and the postings, in two grouped queries."""
    sums: dict[BudgetKey, list] = {}
    for row in (CommitmentPosting.objects.order_by().values("department_id", "quarter")
                .annotate(committed=Sum("amount", filter=Q(kind=CommitmentKind.COMMIT)),
                          actual=Sum("amount", filter=Q(kind=CommitmentKind.ACTUAL)),
                          released=Sum("amount", filter=Q(kind=CommitmentKind.RELEASE)),
                          over=Count("pk", filter=Q(kind=CommitmentKind.COMMIT)
                                     & ~Q(over_budget_reason="")))):
        sums[(row["department_id"], row["quarter"])] = [
            None, row["committed"] or ZERO, row["actual"] or ZERO, row["released"] or ZERO,
            row["over"]]
    for department_id, quarter, amount in Budget.objects.values_list(
            "department_id", "quarter", "amount"):
        sums.setdefault((department_id, quarter), [None, ZERO, ZERO, ZERO, 0])[0] = amount
    return {key: tuple(values) for key, values in sums.items()}


def in_flight_sums() -> dict[FlightKey, tuple]:
    """Per (cost centre, catalog item, funding quarter): (commitments not yet released,)."""
    rows = (CommitmentPosting.objects.filter(kind__in=[CommitmentKind.COMMIT,
                                                       CommitmentKind.RELEASE]).order_by()
            .values("department_id", "request__item_id", "period")
            .annotate(committed=Sum("amount", filter=Q(kind=CommitmentKind.COMMIT)),
                      released=Sum("amount", filter=Q(kind=CommitmentKind.RELEASE))))
    sums = {}
    for row in rows:
        if flight := (row["committed"] or ZERO) - (row["released"] or ZERO):
            sums[(row["department_id"], row["request__item_id"], row["period"])] = (flight,)
    return sums


def item_actual_sums() -> dict[ItemKey, tuple]:
    """Per (catalog item, funding quarter), of the requests fulfilled with a commitment:
    (estimates released, actual costs posted)."""
    fulfilled = CommitmentPosting.objects.filter(request_id=OuterRef("request_id"),
                                                 kind=CommitmentKind.RELEASE,
                                                 reason=CommitmentReason.FULFILLED)
    rows = (CommitmentPosting.objects.filter(reason=CommitmentReason.FULFILLED,
                                             kind__in=[CommitmentKind.RELEASE,
                                                       CommitmentKind.ACTUAL])
            .filter(Exists(fulfilled)).order_by().values("request__item_id", "period")
            .annotate(estimate=Sum("amount", filter=Q(kind=CommitmentKind.RELEASE)),
                      actual=Sum("amount", filter=Q(kind=CommitmentKind.ACTUAL))))
    return {(row["request__item_id"], row["period"]): (row["estimate"] or ZERO,
                                                      row["actual"] or ZERO)
            for row in rows}


def _stored_budget() -> dict[BudgetKey, tuple]:
    return {(f.department_id, f.quarter): (f.budget, f.committed, f.actual, f.released,
                                           f.over_budget)
            for f in BudgetFigures.objects.all()}


def _stored_in_flight() -> dict[FlightKey, tuple]:
    return {(f.department_id, f.item_id, f.period): (f.in_flight,)
            for f in CommitmentItemFigures.objects.exclude(in_flight=0)}


def _stored_item_actuals() -> dict[ItemKey, tuple]:
    return {(f.item_id, f.period): (f.estimate, f.actual)
            for f in ItemActualFigures.objects.all()}


def _compare(family: str, stored: dict, ledger: dict, empty: tuple) -> list[Difference]:
    return [Difference(family, key, stored.get(key, empty), ledger.get(key, empty))
            for key in sorted(set(stored) | set(ledger), key=str)
            if stored.get(key, empty) != ledger.get(key, empty)]


def budget_figures_verify() -> list[Difference]:
    """Every stored figure that is not the sum of its postings (or not its budget); empty
    when all agree. Reads under a share lock on the ledger on PostgreSQL, so no posting
    lands between the sums and the figures."""
    with transaction.atomic():
        _hold_ledger(rebuilding=False)
        return (_compare("budget", _stored_budget(), budget_sums(), (None, ZERO, ZERO, ZERO, 0))
                + _compare("in flight", _stored_in_flight(), in_flight_sums(), (ZERO,))
                + _compare("item actual", _stored_item_actuals(), item_actual_sums(),
                           (ZERO, ZERO)))


@transaction.atomic
def budget_figures_rebuild() -> int:
    """Rewrite every stored figure from the budgets and the postings; returns the rows
    written. Postings and budget changes wait meanwhile (PostgreSQL)."""
    _hold_ledger(rebuilding=True)
    BudgetFigures.objects.all().delete()
    CommitmentItemFigures.objects.all().delete()
    ItemActualFigures.objects.all().delete()
    budgets = [BudgetFigures(department_id=d, quarter=q, budget=budget, committed=committed,
                             actual=actual, released=released, over_budget=over)
               for (d, q), (budget, committed, actual, released, over) in budget_sums().items()]
    flights = [CommitmentItemFigures(department_id=d, item_id=i, period=p, in_flight=flight)
               for (d, i, p), (flight,) in in_flight_sums().items()]
    actuals = [ItemActualFigures(item_id=i, period=p, estimate=estimate, actual=actual)
               for (i, p), (estimate, actual) in item_actual_sums().items()]
    BudgetFigures.objects.bulk_create(budgets, batch_size=2000)
    CommitmentItemFigures.objects.bulk_create(flights, batch_size=2000)
    ItemActualFigures.objects.bulk_create(actuals, batch_size=2000)
    if connection.vendor == "postgresql":
        # Rewritten in bulk: give the planner their new sizes at once.
        with connection.cursor() as cursor:
            for model in (BudgetFigures, CommitmentItemFigures, ItemActualFigures):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return len(budgets) + len(flights) + len(actuals)


def _hold_ledger(*, rebuilding: bool) -> None:
    """Keep budgets and postings from changing until the transaction ends. The tables are
    locked in the order the services take their rows (a budget, then its figures; the
    figures, then the postings), so a rebuild waits for them instead of deadlocking."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Budget._meta.db_table} IN SHARE MODE")
        if rebuilding:
            cursor.execute(f"LOCK TABLE {BudgetFigures._meta.db_table}, "
                           f"{CommitmentItemFigures._meta.db_table}, "
                           f"{ItemActualFigures._meta.db_table} IN EXCLUSIVE MODE")
        cursor.execute(f"LOCK TABLE {CommitmentPosting._meta.db_table} IN SHARE MODE")
