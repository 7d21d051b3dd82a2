"""Path conditions that read what the lifecycle does not own.

A step template's finance condition can be "the estimated cost reaches a threshold"
(``StepTemplate.min_cost``, read from the request alone) or "the request would take its cost
centre's remaining budget below a reserve" (``StepTemplate.budget_reserve_percent``). Budgets
belong to accountability, which the lifecycle never imports: accountability registers its
probe here at start-up (``accountability.wiring``). Without a probe, no budget condition
holds.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

# (request, cost, reserve percent) -> True when the remaining budget after ``cost`` would be
# below the reserve.
BudgetProbe = Callable[[object, Decimal, Decimal], bool]

_probe: list[BudgetProbe] = []


def register_budget_probe(probe: BudgetProbe) -> None:
    _probe[:] = [probe]


def budget_below_reserve(request, cost: Decimal | None, reserve_percent: Decimal) -> bool:
    if not _probe or cost is None:
        return False
    return _probe[0](request, cost, reserve_percent)
