"""The demo looks like a real organisation's week, on a freshly seeded database: most open
work on time, some due soon, a few delays at each level that began at different moments,
people both waiting for work and working on it, every quarter of the report with figures
(posted in the quarter the delay passed, closed quarters included), exposure in proportion
to what was asked for, and starting the product mails nobody about the past."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Max, Sum
from django.utils import timezone

from accountability.board import item_time_figures
from accountability.models import DelayPosting, DelayRisk, EmailStatus, Notification
from accountability.report import quarterly_report
from accountability.services.notifications import notifications_deliver
from accountability.services.risks import flag_delays
from approvals.choices import StepKind, StepState
from approvals.models import Step
from demo.history import MAX_OVERDUE_HOURS
from governance.models import Department
from governance.periods import last_quarters, start_of
from operations.models import OutboxTask


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo as `make run` seeds it (default size), once for this module."""
    with django_db_blocker.unblock():
        mail.outbox = []
        before = timezone.now()
        call_command("seed_demo", verbosity=0)
        # The seed's last delay scan ran at its "now", between these two moments.
        now = max(before, DelayRisk.objects.aggregate(last=Max("refreshed_at"))["last"])
        yield SimpleNamespace(now=now, mails=len(mail.outbox))
        call_command("flush", interactive=False, verbosity=0)


pytestmark = pytest.mark.django_db


def test_most_open_work_is_on_time_some_due_soon_a_few_late_at_each_level(demo):
    steps = list(Step.objects.filter(state=StepState.ACTIVE)
                 .select_related("accountable_department"))
    risks = DelayRisk.objects.filter(resolved_at__isnull=True)
    assert len(steps) >= 20, "a working week of open steps"
    assert risks.count() <= len(steps) // 4, f"{risks.count()} of {len(steps)} open steps are late"
    soon = [s for s in steps if demo.now <= s.due_at <= s.accountable_department.calendar.add(
        demo.now, 8)]
    assert soon, "some work falls due within the next business day"
    levels = Counter(risks.values_list("level", flat=True))
    assert {1, 2, 3} <= set(levels), levels
    assert levels[3] <= 4, levels


def test_the_heads_one_signs_in_as_have_decisions_waiting(demo):
    waiting = Counter(Step.objects.filter(state=StepState.ACTIVE, kind=StepKind.APPROVAL)
                      .values_list("accountable_head__username", flat=True))
    assert sum(waiting[head] for head in ("hank", "fiona", "irene")) >= 3, waiting


def test_each_delay_is_late_since_its_own_moment(demo):
    risks = list(DelayRisk.objects.filter(resolved_at__isnull=True).select_related("step"))
    since = {r.detected_at for r in risks}
    assert len(since) >= len(risks) * 3 / 4, sorted(since)
    assert len({s.date() for s in since}) >= 2
    for risk in risks:
        # Noticed by the scan within a minute or two of falling due, not all at seeding.
        assert timedelta(0) <= risk.detected_at - risk.step.due_at <= timedelta(minutes=2)
        assert risk.overdue_hours <= MAX_OVERDUE_HOURS


def test_people_both_wait_for_work_and_work_on_it(demo):
    rows = item_time_figures(list(Department.objects.values_list("pk", flat=True)),
                             now=demo.now)
    assert any((r["waiting_hours"] or 0) > 0 for r in rows)
    working = [r for r in rows if (r["working_hours"] or 0) > 0]
    assert len(working) >= 5, "agents take work on before they finish it, across items"
    assert Step.objects.filter(state=StepState.ACTIVE).exclude(assignee=None).exists(), \
        "some open work is already taken on"


def test_every_quarter_of_the_report_has_figures_posted_in_its_own_quarter(demo):
    departments = list(Department.objects.all())
    blocks = quarterly_report(departments, quarters=4, now=demo.now)
    assert [b.quarter for b in blocks] == last_quarters(4, until=demo.now)[::-1]
    for block in blocks:
        total = block.total
        if block.quarter == blocks[0].quarter and demo.now - start_of(block.quarter) < timedelta(
                days=14):
            continue  # a quarter that has only just begun may hold nothing yet
        assert total.submitted > 0 and total.fulfilled > 0, block.label
        assert total.approved_spend > 0 and total.fulfilled_spend > 0, block.label
        assert total.cost_of_delay > 0, block.label
        assert block.adjustments == 0, block.label
    # Closed quarters hold postings of their own time, made while they were open.
    closed = last_quarters(4, until=demo.now)[:-1]
    for quarter in closed:
        own = DelayPosting.objects.filter(quarter=quarter, period=quarter)
        assert own.aggregate(s=Sum("amount"))["s"] > 0, quarter
    assert not DelayPosting.objects.adjustments().exists()


def test_exposure_is_in_proportion_to_what_was_asked_for(demo):
    risks = DelayRisk.objects.select_related("request")
    assert risks.count() > 40, "five quarters of history hold delays"
    for risk in risks:
        assert risk.overdue_hours <= MAX_OVERDUE_HOURS, risk
        cost = risk.request.estimated_cost
        if cost:
            assert risk.exposure <= cost / 2, (risk.request.reference, cost, risk.exposure)
    open_exposure = DelayRisk.objects.filter(resolved_at__isnull=True).aggregate(
        s=Sum("exposure"))["s"]
    assert Decimal("100") < open_exposure < Decimal("20000")


def test_starting_the_product_mails_nobody_about_the_past(demo):
    # Seeding sent nothing and left nothing to send or publish ...
    assert demo.mails == 0
    assert not Notification.objects.filter(email_status=EmailStatus.PENDING).exists()
    assert Notification.objects.filter(email_status=EmailStatus.SENT).count() > 500, \
        "the past's notifications are in everyone's list, e-mailed at the time"
    assert not OutboxTask.objects.exists()
    # ... so the worker's first sweep and beat's first delay scan send nothing either.
    assert notifications_deliver(now=demo.now).sent == 0
    first = flag_delays(now=demo.now + timedelta(seconds=1))
    assert (first.raised, first.escalated, first.notifications) == (0, 0, 0)
    assert notifications_deliver(now=demo.now + timedelta(seconds=2)).sent == 0
    assert mail.outbox == []


def test_a_second_run_adds_nothing(demo):
    before = (Step.objects.count(), Notification.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (Step.objects.count(), Notification.objects.count()) == before
