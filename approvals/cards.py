"""Facts an inbox card shows that the lifecycle does not own.

The approvals inbox shows, on each approval card, what other layers know about the request —
the requester's cost centre's budget for the quarter and what the request would take of it.
Those layers register a provider here at start-up (``accountability.wiring``); the inbox asks
every provider once per page (one query each for the whole page, never per card) and each
step carries what they said in ``step.card_facts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CardFact:
    label: str
    text: str
    # The decider must confirm (e.g. approving takes the budget below zero).
    needs_confirmation: bool = False


# (approval steps of the page, their requests attached) -> {step id: [facts]}
CardFacts = Callable[[list], dict[int, list[CardFact]]]

_providers: dict[str, CardFacts] = {}


def register_card_facts(name: str, provider: CardFacts) -> None:
    _providers[name] = provider


def attach_card_facts(steps: Iterable) -> None:
    """Set ``step.card_facts`` on each approval step of ``steps`` (others get none)."""
    steps = list(steps)
    approvals = [s for s in steps if s.is_approval and s.is_active]
    for step in steps:
        step.card_facts = []
        step.card_confirm = False
    if not approvals:
        return
    by_id = {step.pk: step for step in approvals}
    for provider in _providers.values():
        for step_id, facts in provider(approvals).items():
            if step_id in by_id:
                by_id[step_id].card_facts.extend(facts)
                by_id[step_id].card_confirm |= any(f.needs_confirmation for f in facts)
