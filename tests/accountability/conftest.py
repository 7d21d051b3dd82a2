"""Helpers for the governance tests: a request whose first step (Marketing's head approval,
OLA 8 business hours, laptop: EUR 150 cost of delay per day) is activated at a chosen moment,
so due times and overdue figures are known exactly; and a small hand-computed history for
the accountability board."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from approvals.choices import StepState
from approvals.services import step_approve, step_claim, step_complete
from governance.periods import local_date, previous_quarter, quarter_start
from tests.factories import active_step, make_risk

ACCESS = {"details": "CRM access for the campaign.", "system": "CRM"}


@pytest.fixture
def overdue_step(org, submit):
    """Submit a laptop request at ``at``; return its active step (head approval, hank)."""

    def _make(at: datetime, *, item: str = "laptop", actor=None):
        request = submit(at=at, item=item, actor=actor)
        return request.steps.select_related("request").get(state=StepState.ACTIVE)

    return _make


@pytest.fixture
def board_history(org, submit):
    """Relative to now (t0 = ten days ago), all inside the four-week flow window:

    R1 alice laptop 1200 at t0: hank approves after 2 h; IT fulfilment: ivan takes it on
       1 h later and finishes 2 h after that (3 h in step: 1 h waiting, 2 h working).
    R2 alice access at t0+1d: hank approves after 4 h; IT step still open (overdue).
    R3 bob laptop 7000 at t0: hank approves after 1 h; finance approval still open (overdue).
    R5 alice access at t0-5d: hank approves 6 days later (past his 8-hour OLA); IT open.
    Marketing's times in step: 1, 2, 4, 144 h → median 3, p90 102; 1 of 4 breached.
    Risks: R2's IT step L2 exposure 300 (120 accrued this quarter, 30 last quarter);
    R3's finance step L1 exposure 50 (all this quarter); R1's IT step resolved L3 (ignored).
    """
    now = timezone.now()
    t0 = now - timedelta(days=10)
    r1 = submit(cost="1200", at=t0)
    step_approve(actor=org.hank, step=active_step(r1), at=t0 + timedelta(hours=2))
    it1 = active_step(r1)
    step_claim(actor=org.ivan, step=it1, at=t0 + timedelta(hours=3))
    step_complete(actor=org.ivan, step=it1, at=t0 + timedelta(hours=5))
    r2 = submit(item="access", cost="0", answers=ACCESS, at=t0 + timedelta(days=1))
    step_approve(actor=org.hank, step=active_step(r2), at=t0 + timedelta(days=1, hours=4))
    r3 = submit(actor=org.bob, cost="7000", at=t0)
    step_approve(actor=org.hank, step=active_step(r3), at=t0 + timedelta(hours=1))
    r5 = submit(item="access", cost="0", answers=ACCESS, at=t0 - timedelta(days=5))
    step_approve(actor=org.hank, step=active_step(r5), at=t0 + timedelta(days=1))
    this_quarter = quarter_start(local_date(now))
    make_risk(active_step(r2), detected_at=t0 + timedelta(days=3), level=2, exposure="300.00",
              accruals={this_quarter: "120.00", previous_quarter(this_quarter): "30.00"})
    make_risk(active_step(r3), detected_at=t0 + timedelta(days=4), exposure="50.00",
              accruals={this_quarter: "50.00"})
    make_risk(it1, detected_at=t0 + timedelta(hours=4), level=3, exposure="999.00",
              resolved_at=t0 + timedelta(hours=5), accruals={this_quarter: "999.00"})
    return now
