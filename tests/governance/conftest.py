"""Helpers for the delay-governance tests: a request whose first step (Marketing's head
approval, OLA 8 business hours, laptop: EUR 150 cost of delay per day) is activated at a
chosen moment, so due times and overdue figures are known exactly."""

from datetime import datetime

import pytest

from approvals.choices import StepState


@pytest.fixture
def overdue_step(org, submit):
    """Submit a laptop request at ``at``; return its active step (head approval, hank)."""

    def _make(at: datetime, *, item: str = "laptop", actor=None):
        request = submit(at=at, item=item, actor=actor)
        return request.steps.select_related("request").get(state=StepState.ACTIVE)

    return _make
