"""Two delay scans at once (two beat ticks, or the beat and a manual run): one risk per
step, one "raised" event per risk. Row locks and advisory locks only mean something on
PostgreSQL, so this runs against the real server."""

import threading

import pytest
from delay_time import berlin
from django.db import connections

from accountability.models import DelayRisk, Notification
from accountability.services.risks import flag_delays
from approvals.choices import StepState
from approvals.services import step_approve
from governance.models import AuditEvent, User

pytestmark = [
    pytest.mark.postgres,
]


@pytest.fixture(autouse=True)
def _delay_notices_alone(settings):
    """These tests count the delay notices; the lifecycle's (a submission tells the requester
    and the head) are tested in test_lifecycle_notices."""
    settings.SRM_LIFECYCLE_NOTICES = False


def _race(n: int, work) -> list:
    barrier = threading.Barrier(n)
    outcomes, lock = [], threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            result = work(i)
        except Exception as exc:  # reported by the assertion below
            result = exc
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_racing_scans_raise_each_risk_once(org, overdue_step):
    steps = [overdue_step(berlin(2026, 11, 23, hour, 0)) for hour in (9, 10, 11, 12)]
    now = berlin(2026, 11, 25, 10, 0)

    outcomes = _race(6, lambda i: flag_delays(now=now))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o.raised for o in outcomes) == 4
    assert DelayRisk.objects.count() == 4
    assert sorted(DelayRisk.objects.values_list("step_id", flat=True)) == sorted(s.pk for s in steps)
    assert AuditEvent.objects.filter(verb="risk.raised").count() == 4
    assert Notification.objects.filter(recipient__username="hank").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_scan_racing_approvals_never_leaves_an_open_risk_on_a_closed_step(org, overdue_step):
    steps = [overdue_step(berlin(2026, 11, 23, 9, minute)) for minute in range(0, 50, 10)]
    now = berlin(2026, 11, 24, 12, 0)
    hank_id = org.hank.pk

    def work(i: int):
        if i == 0:
            return flag_delays(now=now)
        step = steps[i - 1]
        step_approve(actor=User.objects.get(pk=hank_id), step=step, at=now)
        return "approved"

    outcomes = _race(len(steps) + 1, work)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    closed = [s.pk for s in steps]
    assert not DelayRisk.objects.open().filter(step_id__in=closed).exists()
    assert DelayRisk.objects.filter(step_id__in=closed).count() == len(steps)
    assert not DelayRisk.objects.exclude(step__state=StepState.ACTIVE).filter(
        resolved_at__isnull=True).exists()
