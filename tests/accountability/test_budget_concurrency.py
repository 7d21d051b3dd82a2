"""Twenty approvals racing for the last 10,000 EUR of a budget: the budget row's lock lets
exactly as much through as the budget allows. Row locks only mean something on PostgreSQL,
so this runs against the real server with real threads."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from accountability.models import BudgetFigures, CommitmentPosting
from accountability.services.budget_figures import budget_figures_verify
from accountability.services.budgets import budget_set, current_quarter, used_in
from approvals.choices import StepState
from approvals.models import Step
from approvals.services import step_approve
from governance.errors import DomainError
from governance.models import AuditEvent, User

pytestmark = [pytest.mark.postgres]


def _race(org, submit, *, reason: str = "") -> tuple[list[str], list]:
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="50000")
    big = submit(cost="40000")  # over the finance threshold: head, then finance
    step_approve(actor=org.hank, step=big.steps.get(state=StepState.ACTIVE))
    step_approve(actor=org.fiona, step=big.steps.get(state=StepState.ACTIVE))
    # 10,000 left; twenty requests of 1,000 each wait for the head's (last) approval.
    requests = [submit(cost="1000") for _ in range(20)]
    steps = [r.steps.get(state=StepState.ACTIVE).pk for r in requests]
    hank_id = org.hank.pk
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(step_id: int) -> None:
        try:
            hank = User.objects.get(pk=hank_id)
            step = Step.objects.get(pk=step_id)
            barrier.wait(timeout=20)
            step_approve(actor=hank, step=step, over_budget_reason=reason)
            result = "approved"
        except DomainError as exc:
            result = f"{exc.code}: {exc.message}"
        except Exception as exc:  # anything else is a failure the test reports
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve, args=(pk,)) for pk in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes, requests


@pytest.mark.django_db(transaction=True)
def test_twenty_approvals_racing_for_the_last_10000_commit_exactly_the_budget(org, submit):
    outcomes, requests = _race(org, submit)

    approved = [o for o in outcomes if o == "approved"]
    refused = [o for o in outcomes if o != "approved"]
    assert len(approved) == 10, outcomes
    assert len(refused) == 10
    for message in refused:
        assert message.startswith("over_budget: Marketing ")
        assert "has €0.00 left and SR-" in message
        assert message.endswith("approving takes it over budget. Confirm “over budget” and "
                                "say why.")
    assert used_in(org.dept["MKT"].pk, current_quarter()) == Decimal("50000.00")
    # The stored figures are the ledger's sums: the refusals took their additions back.
    assert budget_figures_verify() == []
    committed = CommitmentPosting.objects.filter(request__in=requests, kind="commit")
    assert committed.count() == 10
    # The refused ones changed nothing: still waiting for the head.
    assert sum(r.steps.filter(state=StepState.ACTIVE, name="Head approval").exists()
               for r in requests) == 10


@pytest.mark.django_db(transaction=True)
def test_where_over_budget_approval_is_allowed_each_one_carries_its_reason(org, submit):
    outcomes, requests = _race(org, submit, reason="Quarter-end campaign agreed by the CFO")

    assert outcomes == ["approved"] * 20
    commits = CommitmentPosting.objects.filter(request__in=requests, kind="commit")
    assert commits.count() == 20
    over = commits.exclude(over_budget_reason="")
    assert over.count() == 10
    assert set(over.values_list("over_budget_reason", flat=True)) == {
        "Quarter-end campaign agreed by the CFO"}
    events = AuditEvent.objects.filter(verb="request.over_budget")
    assert events.count() == 10
    # Each one saw the commitments before it: remaining went 0, −1,000, … −9,000.
    assert sorted(Decimal(str(e.data["remaining_before"])) for e in events) == [
        Decimal(-1000 * n) for n in range(9, -1, -1)]
    assert used_in(org.dept["MKT"].pk, current_quarter()) == Decimal("60000.00")
    assert budget_figures_verify() == []
    assert BudgetFigures.objects.get(department=org.dept["MKT"],
                                     quarter=current_quarter()).over_budget == 10


@pytest.mark.django_db(transaction=True)
def test_with_the_budget_as_a_hard_limit_a_reason_does_not_help(org, submit, settings):
    settings.SRM_OVER_BUDGET_APPROVAL = False
    outcomes, _ = _race(org, submit, reason="Please")
    assert outcomes.count("approved") == 10
    assert all(o.endswith("the budget does not allow it.") for o in outcomes if o != "approved")
