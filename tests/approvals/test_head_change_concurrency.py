"""A head change racing the old head's decision, on PostgreSQL: exactly one of them wins,
in a consistent order — either the old head decided first (the step is closed and stays
theirs), or the change came first (the step moved to the new head and the old head is
refused). Never both, never a deadlock."""

import threading

import pytest
from django.db import connections

from approvals.choices import StepState
from approvals.services import step_approve
from governance.choices import AuditVerb
from governance.errors import NotAllowed
from governance.models import AuditEvent, Department, User
from governance.services.org import department_set_head

pytestmark = [pytest.mark.postgres]


@pytest.mark.django_db(transaction=True)
def test_the_old_head_deciding_while_the_head_changes(org, submit):
    ids = {name: getattr(org, name).pk for name in ("hank", "bob", "admin")}
    marketing = org.dept["MKT"].pk
    for round_ in range(6):
        head, successor = ("hank", "bob") if round_ % 2 == 0 else ("bob", "hank")
        request = submit(cost="1200", actor=org.alice)
        step = request.steps.get(state=StepState.ACTIVE)
        assert step.accountable_head_id == ids[head]
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def decide(step=step, head=head, outcomes=outcomes, barrier=barrier) -> None:
            try:
                actor = User.objects.get(pk=ids[head])
                barrier.wait(timeout=10)
                step_approve(actor=actor, step=step)
                outcomes["decide"] = "approved"
            except NotAllowed as refused:
                outcomes["decide"] = refused.code
            except Exception as exc:
                outcomes["decide"] = f"error: {exc!r}"
            finally:
                connections.close_all()

        def change(successor=successor, outcomes=outcomes, barrier=barrier) -> None:
            try:
                admin, new = User.objects.get(pk=ids["admin"]), User.objects.get(pk=ids[successor])
                barrier.wait(timeout=10)
                department_set_head(actor=admin, department=Department.objects.get(pk=marketing),
                                    head=new)
                outcomes["change"] = "done"
            except Exception as exc:
                outcomes["change"] = f"error: {exc!r}"
            finally:
                connections.close_all()

        threads = [threading.Thread(target=decide), threading.Thread(target=change)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

        step.refresh_from_db()
        moved = AuditEvent.objects.filter(verb=AuditVerb.STEP_REASSIGNED,
                                          object_id=str(step.pk)).exists()
        assert outcomes["change"] == "done"
        if outcomes["decide"] == "approved":
            assert (step.state, step.decided_by_id, moved) == (StepState.APPROVED, ids[head], False)
            assert step.accountable_head_id == ids[head]
        else:
            assert outcomes["decide"] == "not_decider", outcomes
            assert (step.state, step.accountable_head_id, moved) == (
                StepState.ACTIVE, ids[successor], True)
