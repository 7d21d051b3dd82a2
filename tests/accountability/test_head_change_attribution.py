"""A delay across a head change: what accrued while the old head was accountable stays
theirs, from the moment of the change it accrues against the new head, the risk records
both with the moment, and a closed quarter's postings never change.

Marketing (Berlin, 09:00–17:00, laptop EUR 200 per day of delay = EUR 25 per business hour).
"""

from datetime import date
from decimal import Decimal

import pytest
from delay_time import berlin
from django.db.models import Sum
from django.urls import reverse

from accountability.board import delay_cost_by_head
from accountability.models import DelayPosting, DelayRisk, PostingReason
from accountability.services.risks import flag_delays
from approvals.services import step_approve
from governance.choices import AuditVerb
from governance.models import AuditEvent
from governance.services.org import department_set_head

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

Q3, Q4 = date(2026, 7, 1), date(2026, 10, 1)


@pytest.fixture
def laptop_delay(org):
    org.item["laptop"].cost_of_delay_per_day = Decimal("200.00")
    org.item["laptop"].save(update_fields=["cost_of_delay_per_day"])
    return org


def _by_head(risk) -> dict[str, Decimal]:
    rows = risk.postings.values("head__username").order_by().annotate(s=Sum("amount"))
    return {row["head__username"]: row["s"] for row in rows}


def _hours(risk, username) -> Decimal:
    seconds = risk.postings.filter(head__username=username).aggregate(s=Sum("seconds"))["s"]
    return seconds / 3600


def test_exposure_splits_at_the_moment_of_the_change(laptop_delay, overdue_step):
    org = laptop_delay
    step = overdue_step(berlin(2026, 9, 7, 9, 0))          # due Mon 7 Sep 17:00
    flag_delays(now=berlin(2026, 9, 8, 18, 0))              # Tue: 8 h, hank
    change = berlin(2026, 9, 9, 13, 0)
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob, at=change)

    risk = DelayRisk.objects.get(step=step)
    # Wed 09:00–13:00 was still hank's: posted at the change, against him.
    assert (risk.head, risk.previous_head, risk.head_since) == (org.bob, org.hank, change)
    assert risk.previous_heads_exposure == Decimal("300.00")
    assert risk.posted_until == change
    assert _by_head(risk) == {"hank": Decimal("300.00")}
    at_change = risk.postings.get(reason=PostingReason.REATTRIBUTION)
    assert (at_change.head, at_change.seconds, at_change.amount) == (
        org.hank, Decimal(4 * 3600), Decimal("100.00"))

    flag_delays(now=berlin(2026, 9, 10, 18, 0))             # Wed 13–17 + Thu: 12 h, bob
    step_approve(actor=org.bob, step=step, at=berlin(2026, 9, 11, 10, 0))  # Fri 1 h, bob

    risk.refresh_from_db()
    assert _by_head(risk) == {"hank": Decimal("300.00"), "bob": Decimal("325.00")}
    assert (_hours(risk, "hank"), _hours(risk, "bob")) == (12, 13)
    assert risk.exposure == Decimal("625.00") == sum(_by_head(risk).values())
    assert risk.previous_heads_exposure == Decimal("300.00")
    event = AuditEvent.objects.get(verb=AuditVerb.RISK_REATTRIBUTED)
    assert (event.from_state, event.to_state, event.correlation) == (
        "hank", "bob", step.request.reference)
    assert event.data["exposure_before"] == "300.00"
    assert event.data["at"] == change.isoformat()


def test_a_change_after_the_quarter_closed_leaves_the_closed_quarter_alone(
        laptop_delay, overdue_step):
    org = laptop_delay
    step = overdue_step(berlin(2026, 9, 28, 9, 0))          # due Mon 28 Sep 17:00
    flag_delays(now=berlin(2026, 9, 29, 12, 0))             # Tue 09–12: 3 h in Q3, hank
    q3_before = list(DelayPosting.objects.filter(quarter=Q3).values_list(
        "pk", "head_id", "seconds", "amount"))
    # No scan ran since; Q3 closed on 8 Oct. The head changes Mon 12 Oct 13:00.
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob,
                        at=berlin(2026, 10, 12, 13, 0))
    flag_delays(now=berlin(2026, 10, 13, 18, 0))            # Mon 13–17 + Tue: 12 h, bob

    risk = DelayRisk.objects.get(step=step)
    assert list(DelayPosting.objects.filter(quarter=Q3).values_list(
        "pk", "head_id", "seconds", "amount")) == q3_before
    # Q3's unposted 13 h (Tue 12–17, Wed) are hank's, as an adjustment in Q4 naming Q3.
    adjustment = risk.postings.get(period=Q3, quarter=Q4)
    assert (adjustment.head, adjustment.seconds, adjustment.amount) == (
        org.hank, Decimal(13 * 3600), Decimal("325.00"))
    assert (_hours(risk, "hank"), _hours(risk, "bob")) == (3 + 13 + 60, 12)
    assert _by_head(risk) == {"hank": Decimal("1900.00"), "bob": Decimal("300.00")}
    assert risk.exposure == Decimal("2200.00")

    # The department's figures per head for Q4 show the split (Q3's 75 stay in Q3).
    rows = delay_cost_by_head(org.dept["MKT"], now=berlin(2026, 10, 14, 9, 0))
    assert [(row.head_id, row.name, row.amount) for row in rows] == [
        (org.hank.pk, "Hank Hughes", Decimal("1825.00")), (org.bob.pk, "Bob Brown", Decimal("300.00"))]


def test_a_step_overdue_before_any_scan_saw_it_is_charged_to_the_old_head(
        laptop_delay, overdue_step):
    org = laptop_delay
    step = overdue_step(berlin(2026, 9, 7, 9, 0))
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob,
                        at=berlin(2026, 9, 8, 13, 0))      # no scan yet: Tue 09–13 is hank's

    risk = DelayRisk.objects.get(step=step)
    assert (risk.head, risk.previous_head, risk.previous_heads_exposure) == (
        org.bob, org.hank, Decimal("100.00"))
    assert _by_head(risk) == {"hank": Decimal("100.00")}


def test_the_department_page_names_both_heads(laptop_delay, overdue_step, client):
    org = laptop_delay
    step = overdue_step(berlin(2026, 9, 7, 9, 0))
    flag_delays(now=berlin(2026, 9, 8, 18, 0))
    department_set_head(actor=org.admin, department=org.dept["MKT"], head=org.bob,
                        at=berlin(2026, 9, 9, 13, 0))
    assert DelayRisk.objects.get(step=step).is_open

    client.force_login(org.olivia)
    page = client.get(reverse("dashboard:department", args=["MKT"])).content.decode()
    assert "Bob Brown" in page
    assert "since 9 Sep 2026, 13:00; until then Hank Hughes: 300.00" in page
