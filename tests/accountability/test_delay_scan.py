"""The delay scan: a step past due becomes a risk in money against its head, escalates as
the delay grows, and the figures are business time in the department's calendar."""

from datetime import timedelta
from decimal import Decimal

import pytest
from delay_time import berlin
from django.db.models import Sum

from accountability.models import DelayPosting, DelayRisk, Notification
from accountability.services.risks import flag_delays
from approvals.choices import StepState
from approvals.services import step_approve
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

MONDAY_9 = berlin(2026, 11, 23, 9, 0)  # head approval due Monday 17:00


def test_a_step_past_due_becomes_a_level_1_risk_against_the_accountable_head(org, overdue_step):
    step = overdue_step(MONDAY_9)
    assert step.due_at == berlin(2026, 11, 23, 17, 0)

    result = flag_delays(now=berlin(2026, 11, 24, 10, 0))  # one business hour late

    risk = DelayRisk.objects.get(step=step)
    assert (risk.head, risk.department, risk.level) == (org.hank, org.dept["MKT"], 1)
    assert risk.overdue_hours == Decimal("1.00")
    assert risk.day_seconds == 8 * 3600
    assert risk.cost_of_delay_per_day == Decimal("150.00")
    assert risk.exposure == Decimal("18.75")  # 1 h / 8 h × EUR 150
    assert risk.resolved_at is None
    assert (result.raised, result.escalated, result.open) == (1, 0, 1)
    event = AuditEvent.objects.get(verb="risk.raised")
    assert event.correlation == step.request.reference
    assert event.to_state == "level 1"


def test_nothing_is_flagged_before_the_due_time(org, overdue_step):
    overdue_step(MONDAY_9)
    result = flag_delays(now=berlin(2026, 11, 23, 16, 59))
    assert result.raised == 0
    assert not DelayRisk.objects.exists()


@pytest.mark.parametrize(
    ("now", "level", "hours", "exposure"),
    [
        # Money from exact seconds, rounded once: 3 h 59 min = 14,340 s / 28,800 s × 150
        # = 74.6875 → 74.69 (rounding the hours first, 3.98 h, gave 74.63).
        (berlin(2026, 11, 24, 12, 59), 1, "3.98", "74.69"),
        (berlin(2026, 11, 24, 13, 0), 2, "4.00", "75.00"),  # a further 50 % of the 8 h OLA
        (berlin(2026, 11, 24, 16, 59), 2, "7.98", "149.69"),
        (berlin(2026, 11, 25, 9, 0), 3, "8.00", "150.00"),  # 100 % of the OLA
    ],
)
def test_levels_follow_the_ola(org, overdue_step, now, level, hours, exposure):
    step = overdue_step(MONDAY_9)
    flag_delays(now=now)
    risk = DelayRisk.objects.get(step=step)
    assert (risk.level, risk.overdue_hours, risk.exposure) == (level, Decimal(hours), Decimal(exposure))


def test_more_than_three_business_days_is_level_3_even_within_the_ola(org, overdue_step):
    # Fulfilment of a laptop has a 32 h OLA, so 100 % of it would be 4 days: the 3-day rule
    # escalates first.
    step = overdue_step(MONDAY_9)
    step_approve(actor=org.hank, step=step, at=berlin(2026, 11, 23, 10, 0))
    fulfilment = step.request.steps.get(state=StepState.ACTIVE)
    assert fulfilment.ola_hours == Decimal("32.00")
    due = fulfilment.due_at
    flag_delays(now=due + timedelta(hours=1))
    assert DelayRisk.objects.get(step=fulfilment).level == 1

    # Exactly 3 business days late is not yet "more than 3"; a minute later it is.
    three_days = fulfilment.request.item.fulfilling_department.calendar.add(due, 24)
    flag_delays(now=three_days)
    assert DelayRisk.objects.get(step=fulfilment).level == 2
    flag_delays(now=three_days + timedelta(minutes=1))
    risk = DelayRisk.objects.get(step=fulfilment)
    assert risk.level == 3
    assert risk.overdue_hours == Decimal("24.02")


def test_overdue_time_skips_the_weekend_and_public_holidays(org, overdue_step):
    # Due Thursday 24 Dec 2026 17:00; Friday 25th is Christmas Day, then a weekend.
    step = overdue_step(berlin(2026, 12, 24, 9, 0))
    assert step.due_at == berlin(2026, 12, 24, 17, 0)

    flag_delays(now=berlin(2026, 12, 28, 11, 0))  # Monday

    risk = DelayRisk.objects.get(step=step)
    assert risk.overdue_hours == Decimal("2.00")
    assert risk.exposure == Decimal("37.50")
    assert risk.level == 1


def test_a_delay_across_a_quarter_end_is_split_between_the_quarters(org, overdue_step):
    step = overdue_step(berlin(2026, 9, 29, 9, 0))  # due Tuesday 29 Sep 17:00

    flag_delays(now=berlin(2026, 10, 1, 13, 0))  # 8 h on 30 Sep, 4 h on 1 Oct

    risk = DelayRisk.objects.get(step=step)
    assert (risk.overdue_hours, risk.exposure) == (Decimal("12.00"), Decimal("225.00"))
    postings = list(risk.postings.order_by("period").values_list(
        "quarter", "period", "seconds", "amount"))
    assert [(str(q), str(p), s, a) for q, p, s, a in postings] == [
        ("2026-07-01", "2026-07-01", Decimal("28800"), Decimal("150.00")),
        ("2026-10-01", "2026-10-01", Decimal("14400"), Decimal("75.00")),
    ]


def test_the_risk_grows_and_escalates_on_later_scans(org, overdue_step):
    step = overdue_step(MONDAY_9)
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    result = flag_delays(now=berlin(2026, 11, 24, 14, 0))

    risk = DelayRisk.objects.get(step=step)
    assert (risk.level, risk.overdue_hours) == (2, Decimal("5.00"))
    assert risk.escalated_at == berlin(2026, 11, 24, 14, 0)
    assert (result.raised, result.escalated, result.refreshed) == (0, 1, 1)
    assert AuditEvent.objects.filter(verb="risk.escalated", to_state="level 2").count() == 1
    # The second scan posted only the 4 h since the first: nothing already posted changed.
    assert list(risk.postings.values_list("seconds", "amount")) == [
        (Decimal("3600"), Decimal("18.75")), (Decimal("14400"), Decimal("75.00"))]
    assert risk.postings.aggregate(s=Sum("amount"))["s"] == risk.exposure


def test_running_the_scan_twice_changes_nothing(org, overdue_step):
    for day in (23, 24, 25):
        overdue_step(berlin(2026, 11, day, 9, 0))
    now = berlin(2026, 11, 26, 15, 0)
    first = flag_delays(now=now)

    def snapshot():
        return (
            list(DelayRisk.objects.order_by("pk").values()),
            list(DelayPosting.objects.order_by("pk").values()),
            AuditEvent.objects.filter(verb__startswith="risk.").count(),
            Notification.objects.count(),
        )

    before = snapshot()
    second = flag_delays(now=now)

    assert snapshot() == before
    assert first.raised == 3
    assert (second.raised, second.escalated, second.refreshed, second.notifications) == (0, 0, 0, 0)
    assert second.open == 3


def test_a_step_on_hold_is_neither_raised_nor_escalated(org, overdue_step):
    waiting = overdue_step(MONDAY_9)
    waiting.on_hold_since = berlin(2026, 11, 23, 12, 0)
    waiting.save(update_fields=["on_hold_since"])

    flag_delays(now=berlin(2026, 11, 25, 10, 0))
    assert not DelayRisk.objects.exists()

    # A risk opened before the hold keeps its figures while the requester is asked.
    waiting.on_hold_since = None
    waiting.save(update_fields=["on_hold_since"])
    flag_delays(now=berlin(2026, 11, 24, 10, 0))
    waiting.on_hold_since = berlin(2026, 11, 24, 10, 0)
    waiting.save(update_fields=["on_hold_since"])
    flag_delays(now=berlin(2026, 11, 27, 10, 0))
    risk = DelayRisk.objects.get(step=waiting)
    assert (risk.level, risk.overdue_hours) == (1, Decimal("1.00"))
    assert not AuditEvent.objects.filter(verb="risk.escalated").exists()


def test_postings_always_add_up_to_the_exposure(org, overdue_step):
    for start in (berlin(2026, 6, 29, 9, 0), berlin(2026, 9, 30, 15, 0), berlin(2026, 12, 30, 16, 0)):
        overdue_step(start)
    flag_delays(now=berlin(2027, 1, 6, 11, 17))
    for risk in DelayRisk.objects.all():
        sums = risk.postings.aggregate(seconds=Sum("seconds"), amount=Sum("amount"))
        assert (sums["seconds"], sums["amount"]) == (risk.overdue_seconds, risk.exposure)
    assert DelayPosting.objects.values("period").distinct().count() == 4
    # The first scan ran after Q2 and Q3 2026 had closed: their time is posted as adjustments
    # in the open quarter (2027 Q1) naming them; Q4 2026 is still open until 9 Jan 2027.
    assert sorted({(str(q), str(p)) for q, p in DelayPosting.objects.values_list(
        "quarter", "period")}) == [("2026-10-01", "2026-10-01"), ("2027-01-01", "2026-04-01"),
                                   ("2027-01-01", "2026-07-01"), ("2027-01-01", "2027-01-01")]


def test_the_scan_runs_a_bounded_number_of_queries_whatever_the_number_of_steps(
    org, overdue_step, django_assert_max_num_queries
):
    for hour in range(9, 12):
        overdue_step(berlin(2026, 11, 23, hour, 0))
    with django_assert_max_num_queries(17) as few:
        flag_delays(now=berlin(2026, 11, 26, 10, 0))
    for day in (23, 24):
        for hour in range(9, 17):
            overdue_step(berlin(2026, 11, day, hour, 0), actor=org.bob)
    with django_assert_max_num_queries(17) as many:
        flag_delays(now=berlin(2026, 11, 27, 10, 0))
    assert DelayRisk.objects.count() == 19
    assert len(many.captured_queries) <= len(few.captured_queries) + 1
