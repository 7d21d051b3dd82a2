"""The inbox heading's numbers (waiting, on hold, set aside), counted in one pass, are the
counts of the selectors the badge and the lists read: for everyone, with items on hold and
items set aside by separation of duties through both of its routes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.choices import StepState
from approvals.models import Delegation, Step
from approvals.selectors import inbox_heading_counts, on_hold_for, set_aside_for, waiting_for
from approvals.services import step_approve, step_hold

pytestmark = pytest.mark.postgres


def _active(request) -> Step:
    return request.steps.get(state=StepState.ACTIVE)


def _away(frm, to) -> None:
    today = timezone.localdate()
    Delegation.objects.create(delegator=frm, delegate=to, starts_on=today,
                              ends_on=today + timedelta(days=7))


def test_the_heading_counts_what_the_selectors_count_for_everyone(org, submit, client):
    submit(cost="1200")  # waits for Hank
    step_hold(actor=org.hank, step=_active(submit(cost="1200")), question="Which model?")
    # Hank approved as head; Finance's step reaches him as Fiona's delegate: set aside.
    _away(org.fiona, org.hank)
    step_approve(actor=org.hank, step=_active(submit(cost="7500")))
    # A finance step that lands on Hank himself after he approved as head: set aside for
    # him, and for Bob, who decides for Hank while he is away (the head took part).
    again = submit(cost="7500")
    step_approve(actor=org.hank, step=_active(again))
    Step.objects.filter(pk=_active(again).pk).update(accountable_head=org.hank)
    _away(org.hank, org.bob)

    assert inbox_heading_counts(org.hank) == (1, 1, 2)
    assert inbox_heading_counts(org.bob) == (1, 1, 1)
    for person in vars(org).values():
        if hasattr(person, "is_authenticated"):
            assert inbox_heading_counts(person) == (
                waiting_for(person).count(), on_hold_for(person).count(),
                set_aside_for(person).count()), person.username
    client.force_login(org.bob)
    page = client.get("/approvals/").content.decode()
    assert "1 waiting for your decision · 1 on hold" in page
    assert 'Not yours to decide <span class="muted small">(1)</span>' in page
