"""The budget report (the CFO's view): per cost centre and quarter, the budget, what the
commitment ledger committed, spent and released, what is left, the cost of delay accrued and
the approvals that went over budget; and the forecast of what is left at quarter end.

Every figure is a sum of ledger postings (``CommitmentPosting``, ``DelayPosting``) counting
in the quarter, read from where the sums are stored: the commitment ledger's per cost centre
and quarter (``BudgetFigures``, kept in each posting's transaction), the cost-of-delay
ledger's per department and quarter (``QuarterFigures``, the quarterly report's). The page,
its CSV/XLSX and the API read the same rows, so they agree to the cent, and for every row

    remaining = budget − committed − actual + released

Five small queries whatever the number of requests or postings (the budget figures, the
quarters' stamps, the delay figures, and for the forecast the items' actuals and the work in
flight). See docs/budgets.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accountability.delays import quarter_of, reporting_tz
from accountability.figures import stored_quarters
from accountability.models import (
    Budget,
    BudgetFigures,
    CommitmentItemFigures,
    ItemActualFigures,
    QuarterFigures,
)
from accountability.models.budgets import sees_all_budgets
from accountability.services.ledger import posting_quarter
from approvals.cards import CardFact
from governance.models import Department
from governance.models.org import accountability_scope_ids
from governance.periods import last_quarters, quarter_label

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_QUARTERS = 12
# The forecast learns each item's actual/estimate ratio from this many quarters before the
# current one.
RATIO_QUARTERS = 4

HEADERS = [_("Quarter"), _("Cost centre"), _("Department"), _("Budget"), _("Committed"),
           _("Actual"), _("Released"), _("Remaining"), _("Used %"), _("Cost of delay"),
           _("Over-budget approvals"), _("Forecast remaining at quarter end")]


@dataclass
class BudgetRow:
    quarter: date
    department: Department | None  # None on a total row
    budget: Decimal = ZERO
    committed: Decimal = ZERO
    actual: Decimal = ZERO
    released: Decimal = ZERO
    cost_of_delay: Decimal = ZERO
    over_budget: int = 0
    forecast: Decimal | None = None  # the current quarter only

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.committed - self.actual + self.released

    @property
    def used(self) -> Decimal:
        return self.committed + self.actual - self.released

    @property
    def used_percent(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.used * 100 / self.budget).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def overruns(self) -> bool:
        """Forecast to end the quarter below zero (only where a budget is set)."""
        return bool(self.budget) and self.forecast is not None and self.forecast < 0

    def add(self, other: BudgetRow) -> None:
        self.budget += other.budget
        self.committed += other.committed
        self.actual += other.actual
        self.released += other.released
        self.cost_of_delay += other.cost_of_delay
        self.over_budget += other.over_budget
        if other.forecast is not None:
            self.forecast = (self.forecast or ZERO) + other.forecast


@dataclass
class BudgetBlock:
    quarter: date
    rows: list[BudgetRow] = field(default_factory=list)
    current: bool = False

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)

    @cached_property
    def total(self) -> BudgetRow:
        total = BudgetRow(self.quarter, None)
        for row in self.rows:
            total.add(row)
        return total


def budget_departments(user) -> tuple[list[Department], bool]:
    """The cost centres whose budgets ``user`` sees (the ``Budget`` rule) and whether that
    is every one; ``PermissionDenied`` when none."""
    Budget.objects.restrict(user)  # the rule the rows below follow
    if sees_all_budgets(user):
        return list(Department.objects.all()), True
    ids = accountability_scope_ids(user)
    if not ids:
        raise PermissionDenied(gettext("Budgets are for finance, ops leaders and department "
                                       "heads."))
    return list(Department.objects.filter(pk__in=ids)), False


def budget_blocks(departments: list[Department], *, quarters: int = 4,
                  everything: bool = False, now=None) -> list[BudgetBlock]:
    """One block per quarter (newest first), one row per department in ``departments``
    (zeros included). ``everything``: the reader sees every department (no id filter)."""
    now = now or timezone.now()
    periods = last_quarters(quarters, until=now)
    ids = [d.pk for d in departments]
    rows = {(q, d.pk): BudgetRow(q, d) for q in periods for d in departments}

    def scoped(queryset, name="department_id"):
        return queryset if everything else queryset.filter(**{f"{name}__in": ids})

    for found in scoped(BudgetFigures.objects.filter(quarter__in=periods)):
        if row := rows.get((found.quarter, found.department_id)):
            row.budget = found.budget or ZERO
            row.committed, row.actual, row.released = found.committed, found.actual, found.released
            row.over_budget = found.over_budget
    stored_quarters(periods, now=now)
    delays = scoped(QuarterFigures.objects.filter(quarter__in=periods)).values_list(
        "quarter", "department_id", F("cost_of_delay") + F("delay_adjustments"))
    for quarter, department_id, amount in delays:
        if row := rows.get((quarter, department_id)):
            row.cost_of_delay = amount
    current = posting_quarter(quarter_of(now, reporting_tz()), at=now)
    if current in periods:
        for department_id, forecast in forecasts(ids, current, everything=everything,
                                                 now=now).items():
            if row := rows.get((current, department_id)):
                row.forecast = (row.remaining - forecast).quantize(CENT, ROUND_HALF_UP)
        for department in departments:
            row = rows[(current, department.pk)]
            if row.forecast is None:
                row.forecast = row.remaining
    return [
        BudgetBlock(q, [rows[(q, d.pk)] for d in departments], current=q == current)
        for q in reversed(periods)
    ]


# What the board's budget lines show of a department.
WATCHED = ("department_id", "department__code", "department__name", "department__cost_centre")
WATCHED_FIELDS = ["id", "code", "name", "cost_centre"]


def budget_watch(department_ids: Iterable[int], *, everything: bool = False,
                 now=None) -> list[BudgetRow]:
    """The board's budget lines: this quarter's cost centres among ``department_ids`` (every
    one with ``everything``) with a budget that are forecast to overrun or had approvals over
    budget (the same rows, figures and forecasts as the budget report's), by department name.
    Read on every view (every commitment moves them), and only the cost centres that can
    show up: on PostgreSQL in one statement, those over budget or whose forecast may be
    below zero, with their department's name and their forecast (``_watch_candidates``);
    elsewhere in two, those with a budget or an approval over budget, then their forecasts."""
    now = now or timezone.now()
    quarter = last_quarters(1, until=now)[0]
    ids = None if everything else list(department_ids)
    current = quarter == posting_quarter(quarter_of(now, reporting_tz()), at=now)
    if current and connection.vendor == "postgresql":
        found = _watch_candidates(ids, quarter, now=now)
    else:
        candidates = (BudgetFigures.objects.filter(quarter=quarter)
                      .filter((Q(budget__isnull=False) & ~Q(budget=0)) | ~Q(over_budget=0))
                      .order_by("department__name", "department_id")
                      .values_list(*WATCHED, "budget", "committed", "actual", "released",
                                   "over_budget"))
        if ids is not None:
            candidates = candidates.filter(department_id__in=ids)
        found = list(candidates)
        budgeted = [pk for pk, _code, _name, _centre, budget, *_ in found if budget]
        extra = forecasts(budgeted, quarter, now=now) if current and budgeted else {}
        found = [(*row, extra.get(row[0])) for row in found]
    rows = []
    for *department, budget, committed, actual, released, over_budget, extra in found:
        row = BudgetRow(quarter, None, budget or ZERO, committed, actual, released,
                        over_budget=over_budget)
        if current:
            row.forecast = row.remaining
            if row.budget and extra:
                row.forecast = (row.remaining - extra).quantize(CENT, ROUND_HALF_UP)
        rows.append((row, department))
    watched = []
    for row, department in rows:
        if row.overruns or row.over_budget:
            # Only the fields the lines show are read; any other loads when asked for.
            row.department = Department.from_db(connection.alias, WATCHED_FIELDS, department)
            watched.append(row)
    return watched


def forecasts(ids: list[int], quarter: date, *, everything: bool = False,
              now=None) -> dict[int, Decimal]:
    """Per cost centre, what its work in flight will still take from ``quarter``'s budget
    beyond what it committed: for each commitment counting in ``quarter`` not yet released,
    ``commitment × (ratio − 1)``, the ratio being its catalog item's actual ÷ estimate over
    the requests fulfilled in the ``RATIO_QUARTERS`` quarters before (1 without history).

    One query on the stored figures: the work in flight of the quarter per cost centre and
    item (a commitment counts in the quarter that funds it, so what is in flight there is
    what is in flight for the quarter), joined to each item's actuals and estimates of the
    quarters before, summed per item. PostgreSQL sums it per cost centre in ``numeric``;
    on SQLite, which has no decimal type (it keeps 1200.00 as the integer 1200, and 1200 /
    1000 is 1 there), the rows per cost centre and item are scaled here in decimal
    arithmetic, so both give the same cents."""
    if not everything and not ids:
        return {}
    ratios, params = _in_flight(None if everything else ids, quarter, now=now)
    if connection.vendor == "postgresql":
        # numeric is exact: summed per cost centre in the database (one row each, not one per
        # cost centre and item: tens of thousands at 1,000,000 requests), multiplied before
        # it is divided, as below.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT f.department_id, "
                           f"SUM(f.in_flight * (r.actual - r.estimate) / r.estimate) {ratios} "
                           f"GROUP BY f.department_id", params)
            return {department: extra for department, extra in cursor.fetchall() if extra}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT f.department_id, f.in_flight, r.actual, r.estimate {ratios}",
                       params)
        rows = cursor.fetchall()
    extras: dict[int, Decimal] = {}
    for department, in_flight, actual, estimate in rows:
        in_flight, actual, estimate = _stored(in_flight), _stored(actual), _stored(estimate)
        extras[department] = (extras.get(department, ZERO)
                              + in_flight * (actual - estimate) / estimate)
    return {department: extra for department, extra in extras.items() if extra}


def _in_flight(ids: list[int] | None, quarter: date, *, now=None) -> tuple[str, list]:
    """The FROM and WHERE of ``forecasts``' query, with its parameters: the work in flight
    of ``quarter`` per cost centre (among ``ids``; every one with ``None``) and item, as
    ``f``, joined to its item's summed actuals and estimates of the ratio quarters, as
    ``r``."""
    first = last_quarters(RATIO_QUARTERS + 1, until=now or timezone.now())[0]
    quote = connection.ops.quote_name
    flights = quote(CommitmentItemFigures._meta.db_table)
    actuals = quote(ItemActualFigures._meta.db_table)
    scope, params = "", [first, quarter, quarter]
    if ids is not None:
        scope = f" AND f.department_id IN ({', '.join(['%s'] * len(ids))})"
        params += list(ids)
    return (f"FROM {flights} f JOIN (SELECT item_id, SUM(actual) AS actual, "
            f"SUM(estimate) AS estimate FROM {actuals} WHERE period >= %s AND period < %s "
            f"GROUP BY item_id HAVING SUM(estimate) > 0 AND SUM(actual) > 0) r "
            f"ON r.item_id = f.item_id "
            f"WHERE f.period = %s AND NOT (f.in_flight = 0){scope}"), params


def _watch_candidates(ids: list[int] | None, quarter: date, *, now) -> list[tuple]:
    """PostgreSQL: the board's budget lines that may show, in one statement: ``quarter``'s
    cost centres (among ``ids``; every one with ``None``) with an approval over budget, or
    with a budget and a forecast below one cent (a superset of those whose forecast, rounded
    to the cent, is below zero; ``budget_watch`` decides), each as its department's
    ``WATCHED`` values, its figures and ``forecasts``' extra for it (``None`` without one),
    by department name."""
    if ids is not None and not ids:
        return []
    quote = connection.ops.quote_name
    figures = quote(BudgetFigures._meta.db_table)
    departments = quote(Department._meta.db_table)
    ratios, params = _in_flight(ids, quarter, now=now)
    scope = "" if ids is None else f" AND b.department_id IN ({', '.join(['%s'] * len(ids))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT b.department_id, d.code, d.name, d.cost_centre, b.budget, b.committed, "
            f"b.actual, b.released, b.over_budget, x.extra "
            f"FROM {figures} b JOIN {departments} d ON d.id = b.department_id "
            f"LEFT JOIN (SELECT f.department_id, "
            f"SUM(f.in_flight * (r.actual - r.estimate) / r.estimate) AS extra {ratios} "
            f"GROUP BY f.department_id) x ON x.department_id = b.department_id "
            f"WHERE b.quarter = %s{scope} AND (NOT (b.over_budget = 0) OR (NOT (b.budget = 0) "
            f"AND b.budget - b.committed - b.actual + b.released - COALESCE(x.extra, 0) < %s)) "
            f"ORDER BY d.name, b.department_id",
            [*params, quarter, *(ids or []), CENT])
        return cursor.fetchall()


def _stored(value) -> Decimal:
    """A stored amount (two decimals) as read from the database: a Decimal on PostgreSQL, an
    int or a binary float on SQLite (whose sums of floats are a hair off: back to the cent)."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def budget_table(blocks: list[BudgetBlock]) -> list[list]:
    """The rows of the CSV/XLSX: each quarter's rows then its total, as on the page."""

    def line(block: BudgetBlock, row: BudgetRow) -> list:
        return [
            block.label,
            row.department.cost_centre if row.department else "",
            row.department.name if row.department else str(_("Total")),
            f"{row.budget:.2f}", f"{row.committed:.2f}", f"{row.actual:.2f}",
            f"{row.released:.2f}", f"{row.remaining:.2f}",
            "" if row.used_percent is None else f"{row.used_percent:.1f}",
            f"{row.cost_of_delay:.2f}", row.over_budget,
            "" if row.forecast is None else f"{row.forecast:.2f}",
        ]

    table = []
    for block in blocks:
        table.extend(line(block, row) for row in block.rows)
        table.append(line(block, block.total))
    return table


def trend(blocks: list[BudgetBlock]) -> dict:
    """The chart: per quarter (oldest first), the budget and what was used of it."""
    ordered = list(reversed(blocks))
    return {
        "type": "bar",
        "labels": [b.label for b in ordered],
        "datasets": [
            {"label": str(_("Budget")), "data": [float(b.total.budget) for b in ordered]},
            {"label": str(_("Used (committed + actual − released)")),
             "data": [float(b.total.used) for b in ordered]},
            {"label": str(_("Cost of delay")), "axis": "y2",
             "data": [float(b.total.cost_of_delay) for b in ordered]},
        ],
    }


def _amount(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def budget_card_facts(steps: list) -> dict[int, list[CardFact]]:
    """The inbox cards' budget line, for every approval step of a page in one query: the
    requester's cost centre's budget this quarter, what is used of it, and what this request
    would make of it — "Marketing 2026 Q4: 42,000 of 60,000 EUR committed; after this request
    48,000 (80 %)". A request whose cost would take the budget below zero needs the decider's
    confirmation. Cost centres without a budget get no line."""
    now = timezone.now()
    quarter = posting_quarter(quarter_of(now, reporting_tz()), at=now)
    ids = {step.request.requester_department_id for step in steps}
    budgets = {f.department_id: f for f in BudgetFigures.objects.filter(
        department_id__in=ids, quarter=quarter, budget__isnull=False)
        .select_related("department")}
    currency = settings.SRM_REPORTING_CURRENCY
    facts: dict[int, list[CardFact]] = {}
    for step in steps:
        budget = budgets.get(step.request.requester_department_id)
        if budget is None:
            continue
        cost = step.request.estimated_cost or ZERO
        after = budget.used + cost
        words = {"centre": budget.department.name, "quarter": quarter_label(quarter),
                 "used": _amount(budget.used), "budget": _amount(budget.budget),
                 "currency": currency, "after": _amount(after)}
        if budget.budget:
            words["percent"] = f"{(after * 100 / budget.budget).quantize(Decimal(1), ROUND_HALF_UP)}"
            text = gettext("%(centre)s %(quarter)s: %(used)s of %(budget)s %(currency)s "
                           "committed; after this request %(after)s (%(percent)s %%)") % words
        else:
            text = gettext("%(centre)s %(quarter)s: %(used)s of %(budget)s %(currency)s "
                           "committed; after this request %(after)s") % words
        facts[step.pk] = [CardFact(gettext("Budget"), text,
                                   needs_confirmation=after > budget.budget)]
    return facts
