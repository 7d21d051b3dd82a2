"""Two people clicking at once: exactly one decision wins. Row locks only mean something on
PostgreSQL, so this runs against the real server (CI sets DATABASE_URL)."""

import threading

import pytest
from django.db import connections

from approvals.choices import StepState
from approvals.services import step_approve, step_reject
from governance.errors import AlreadyDecided
from governance.models import AuditEvent, User

pytestmark = [
    pytest.mark.postgres,
]


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_deciding_one_step_produce_exactly_one_decision(org, submit):
    request = submit(cost="100")
    step = request.steps.get(state=StepState.ACTIVE)
    hank_id = org.hank.pk
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide(i: int) -> None:
        try:
            hank = User.objects.get(pk=hank_id)
            barrier.wait(timeout=10)
            if i % 2:
                step_approve(actor=hank, step=step, comment=f"approve {i}")
            else:
                step_reject(actor=hank, step=step, comment=f"reject {i}")
            result = "won"
        except AlreadyDecided:
            result = "already decided"
        except Exception as exc:  # anything else is a failure the test reports
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == ["already decided"] * 19 + ["won"]
    step.refresh_from_db()
    assert step.state in (StepState.APPROVED, StepState.REJECTED)
    decisions = AuditEvent.objects.filter(
        correlation=request.reference, verb__in=["step.approved", "step.rejected"]
    )
    assert decisions.count() == 1
    assert decisions.get().to_state == step.state


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_references_without_waiting_on_each_other(org):
    from requests_app.services import request_submit

    alice_id, item_id = org.alice.pk, org.item["access"].pk
    barrier = threading.Barrier(10)
    references: list[str] = []
    errors: list[str] = []

    def submit_one() -> None:
        from requests_app.models import CatalogItem

        try:
            alice, item = User.objects.get(pk=alice_id), CatalogItem.objects.get(pk=item_id)
            barrier.wait(timeout=10)
            request = request_submit(actor=alice, item=item, estimated_cost="0",
                                     answers={"details": "VPN", "system": "VPN"})
            references.append(request.reference)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit_one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert len(set(references)) == 10
