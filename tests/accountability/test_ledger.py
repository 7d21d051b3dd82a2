"""The cost-of-delay ledger: the histories of issue 15 with their exact figures, closed
quarters that never change, adjustments, one rounding, and the database's protection."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from delay_time import berlin
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum

from accountability.board import accrued_this_quarter
from accountability.figures import refresh_figures, report_from_figures
from accountability.models import DelayPosting, DelayRisk
from accountability.report import ADJUSTMENTS_LABEL, quarterly_report, report_table
from accountability.services.ledger import closes_at
from accountability.services.risks import flag_delays
from approvals.services import step_answer, step_approve, step_hold
from governance.models import Department

pytestmark = pytest.mark.django_db

Q4, Q1 = date(2026, 10, 1), date(2027, 1, 1)


def _every_evening(first: datetime, last: datetime):
    """A delay scan at 18:00 every day from ``first`` to ``last`` (as beat would, coarser)."""
    day = first.date()
    while day <= last.date():
        flag_delays(now=berlin(day.year, day.month, day.day, 18, 0))
        day += timedelta(days=1)


def _quarter_total(quarter: date) -> Decimal:
    return DelayPosting.objects.filter(quarter=quarter).aggregate(s=Sum("amount"))["s"] or Decimal(0)


def _csv_lines(quarter: date, now: datetime) -> list[list[str]]:
    """The CSV's lines of one quarter, as the download writes them (stored figures)."""
    blocks, _ = report_from_figures(list(Department.objects.all()), quarters=4, now=now,
                                    everything=True)
    label = f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}"
    return [line for line in report_table(blocks) if line[0] == label]


@pytest.fixture
def marketing_200(org):
    org.item["laptop"].cost_of_delay_per_day = Decimal("200.00")
    org.item["laptop"].save(update_fields=["cost_of_delay_per_day"])
    return org


def test_a_quarter_closes_five_business_days_after_it_ends():
    # 1 Jan is a holiday; 4–8 Jan are the five business days: Q4 2026 closes at 9 Jan 00:00.
    assert closes_at(Q4) == berlin(2027, 1, 9, 0, 0)
    assert closes_at(date(2026, 7, 1)) == berlin(2026, 10, 8, 0, 0)  # 3 Oct is a holiday


def test_a_hold_across_the_quarter_end_leaves_the_passed_time_in_its_quarter(
        marketing_200, overdue_step):
    """Issue 15, history 1: overdue from Mon 21 Dec 2026 17:00 (Berlin calendar, 8 h day,
    EUR 200/day), on hold Tue 5 Jan 2027 10:00, answered Thu 7 Jan 15:00, approved Fri 8 Jan
    11:00: Q4 holds the 56 h that passed in Q4 (EUR 1,400), Q1 the other 13 h (EUR 325)."""
    org = marketing_200
    step = overdue_step(berlin(2026, 12, 21, 9, 0))
    assert step.due_at == berlin(2026, 12, 21, 17, 0)
    _every_evening(berlin(2026, 12, 21, 0, 0), berlin(2027, 1, 4, 0, 0))
    q4_after_it_ended = _csv_lines(Q4, berlin(2027, 1, 4, 18, 5))

    step_hold(actor=org.hank, step=step, question="Which model?", at=berlin(2027, 1, 5, 10, 0))
    _every_evening(berlin(2027, 1, 5, 0, 0), berlin(2027, 1, 6, 0, 0))
    step_answer(actor=org.alice, step=step, answer="13-inch.", at=berlin(2027, 1, 7, 15, 0))
    step.refresh_from_db()
    # Already overdue when the hold started: the due time does not move.
    assert step.due_at == berlin(2026, 12, 21, 17, 0)
    flag_delays(now=berlin(2027, 1, 7, 18, 0))
    step_approve(actor=org.hank, step=step, at=berlin(2027, 1, 8, 11, 0))

    risk = DelayRisk.objects.get(step=step)
    assert (risk.overdue_seconds, risk.exposure) == (Decimal(69 * 3600), Decimal("1725.00"))
    by_quarter = {q: (s, a) for q, s, a in risk.postings.values("quarter").order_by("quarter")
                  .annotate(s=Sum("seconds"), a=Sum("amount")).values_list("quarter", "s", "a")}
    assert by_quarter == {Q4: (Decimal(56 * 3600), Decimal("1400.00")),
                          Q1: (Decimal(13 * 3600), Decimal("325.00"))}
    assert not risk.postings.adjustments().exists()
    # Q4 read 1,400 after it ended and still does, byte for byte, after the hold and the close.
    later = _csv_lines(Q4, berlin(2027, 1, 20, 10, 0))
    assert later == q4_after_it_ended
    marketing = next(line for line in later if line[2] == "Marketing")
    assert marketing[6] == "1400.00"


def test_a_settled_quarter_reads_the_sum_of_its_rows_after_a_late_hold(
        marketing_200, overdue_step):
    """Issue 15, history 2: a hold that starts in Q4 and is answered after Q4 closed. The
    stored Q4 figure, the live one and the sum of Q4's postings agree, and Q4 + Q1 is the
    risk's exposure exactly (on main the stored figure kept 600 EUR the rows had lost)."""
    org = marketing_200
    step = overdue_step(berlin(2026, 12, 21, 9, 0))
    _every_evening(berlin(2026, 12, 21, 0, 0), berlin(2026, 12, 29, 0, 0))
    step_hold(actor=org.hank, step=step, question="Which model?", at=berlin(2026, 12, 30, 9, 0))
    refresh_figures(now=berlin(2027, 1, 11, 9, 0))  # after Q4 closed: settled
    settled = _csv_lines(Q4, berlin(2027, 1, 11, 9, 0))

    step_answer(actor=org.alice, step=step, answer="13-inch.", at=berlin(2027, 1, 12, 9, 0))
    flag_delays(now=berlin(2027, 1, 12, 18, 0))
    step_approve(actor=org.hank, step=step, at=berlin(2027, 1, 13, 9, 0))
    refresh_figures(now=berlin(2027, 1, 13, 10, 0))

    now = berlin(2027, 1, 13, 10, 0)
    assert _csv_lines(Q4, now) == settled
    live = {b.quarter: b.total.cost_of_delay
            for b in quarterly_report(list(Department.objects.all()), now=now)}
    stored, _ = report_from_figures(list(Department.objects.all()), now=now, everything=True)
    assert {b.quarter: b.total.cost_of_delay for b in stored} == live
    # 21 Dec 17:00 → 30 Dec 09:00 is 5 business days (22–24, 28, 29 Dec: 40 h, EUR 1,000) in
    # Q4; 12 Jan 09:00 → 13 Jan 09:00 is 8 h (EUR 200) in Q1.
    assert (live[Q4], live[Q1]) == (Decimal("1000.00"), Decimal("200.00"))
    assert live[Q4] == _quarter_total(Q4) and live[Q1] == _quarter_total(Q1)
    assert live[Q4] + live[Q1] == DelayRisk.objects.get(step=step).exposure


def test_a_third_of_an_hour_in_the_day_never_moves_a_risk_without_added_delay(org, overdue_step):
    """Issue 15, history 3: a department working 08:00–16:20 (8.333… h a day). Its risks are
    timed with the exact day (30,000 s) on every scan, so a scan after hours changes nothing."""
    Department.objects.filter(code="MKT").update(work_start=time(8, 0), work_end=time(16, 20))
    step = overdue_step(berlin(2026, 11, 23, 8, 0))  # OLA 8 h: due Monday 16:00
    flag_delays(now=berlin(2026, 11, 27, 16, 30))
    risk = DelayRisk.objects.get(step=step)
    before = (risk.overdue_seconds, risk.exposure, list(DelayPosting.objects.values()))
    flag_delays(now=berlin(2026, 11, 27, 18, 0))  # after hours: no business time passed
    flag_delays(now=berlin(2026, 11, 28, 12, 0))  # Saturday
    risk.refresh_from_db()
    assert (risk.overdue_seconds, risk.exposure, list(DelayPosting.objects.values())) == before
    # Mon 16:00–16:20 and Tue–Fri 4 × 8 h 20 min: 121,200 s, 4.04 days of 30,000 s.
    assert risk.day_seconds == 30000
    assert risk.overdue_seconds == Decimal(20 * 60 + 4 * 30000)
    assert risk.exposure == Decimal("606.00")  # 4.04 × EUR 150


def test_a_round_the_clock_desk_counts_real_hours_across_the_clock_change(org, overdue_step):
    """Issue 15, history 4: a department working 00:00–24:00 every day. 8 business hours from
    Sun 25 Oct 2026 00:09 CEST end at 07:09 CET (the night has an hour more)."""
    Department.objects.filter(code="MKT").update(work_start=time(0), work_end=time(0),
                                                 work_days="1234567")
    step = overdue_step(berlin(2026, 10, 25, 0, 9))
    assert step.due_at == berlin(2026, 10, 25, 7, 9)
    flag_delays(now=berlin(2026, 10, 26, 7, 9))  # one real day later
    risk = DelayRisk.objects.get(step=step)
    assert (risk.day_seconds, risk.overdue_seconds) == (86400, Decimal(86400))
    assert risk.exposure == Decimal("150.00")  # exactly one business day


def test_money_is_rounded_once_from_exact_seconds(org, overdue_step):
    """Issue 15, history 5: 3 h 59 min 30 s late at EUR 150 a day of 8 h. Rounding the hours
    first (3.99 h) gave 74.81; from the seconds (14,370 s) it is 74.84375 → 74.84."""
    step = overdue_step(berlin(2026, 11, 23, 9, 0))
    flag_delays(now=berlin(2026, 11, 24, 12, 59, 30))
    risk = DelayRisk.objects.get(step=step)
    assert risk.overdue_seconds == Decimal(14370)
    assert risk.exposure == Decimal("74.84")


def test_a_scan_that_runs_after_a_quarter_closed_posts_an_adjustment_in_the_open_one(
        org, overdue_step):
    step = overdue_step(berlin(2026, 12, 30, 9, 0))  # due Wed 30 Dec 17:00
    flag_delays(now=berlin(2026, 12, 31, 12, 0))  # 8 h of 30 Dec... and 3 h of 31 Dec
    refresh_figures(now=berlin(2027, 1, 11, 9, 0))
    q4_closed = _csv_lines(Q4, berlin(2027, 1, 11, 9, 0))
    # No scan until 11 Jan (beat was down): the rest of 31 Dec (5 h) belongs to closed Q4.
    flag_delays(now=berlin(2027, 1, 11, 10, 0))

    adjustment = DelayPosting.objects.adjustments().get()
    assert (adjustment.quarter, adjustment.period) == (Q1, Q4)
    assert adjustment.seconds == Decimal(5 * 3600)
    assert _csv_lines(Q4, berlin(2027, 1, 12, 9, 0)) == q4_closed
    q1 = _csv_lines(Q1, berlin(2027, 1, 12, 9, 0))
    line = next(row for row in q1 if row[2] == ADJUSTMENTS_LABEL)
    assert line[6] == f"{adjustment.amount:.2f}"
    total = next(row for row in q1 if row[2] == "Total")
    assert total[6] == f"{_quarter_total(Q1):.2f}"
    # The board's "accrued this quarter" is the report's total for the quarter, adjustments in.
    accrued = accrued_this_quarter([step.accountable_department_id],
                                   now=berlin(2027, 1, 12, 9, 0))
    assert accrued[step.accountable_department_id] == _quarter_total(Q1)
    risk = DelayRisk.objects.get(step=step)
    assert risk.postings.aggregate(s=Sum("amount"))["s"] == risk.exposure


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_a_posting(org, overdue_step):
    overdue_step(berlin(2026, 11, 23, 9, 0))
    flag_delays(now=berlin(2026, 11, 24, 12, 0))
    posting = DelayPosting.objects.get()
    for sql in ("UPDATE accountability_delayposting SET amount = 0 WHERE id = %s",
                "DELETE FROM accountability_delayposting WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [posting.pk])
    assert DelayPosting.objects.get().amount == posting.amount
