"""An administrator corrects a department's business calendar: by default the new calendar
counts from now on; with a correction date the delay time already posted since that day is
measured again and the difference posted to the ledger — an adjustment where the quarter has
closed, so a closed quarter's figures never change."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from delay_time import berlin
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accountability.delays import quarter_of, reporting_tz
from accountability.models import DelayPosting, DelayRisk, PostingReason
from accountability.services.risks import flag_delays
from approvals.services import step_approve
from governance.choices import AuditVerb
from governance.models import AuditEvent, Department

pytestmark = pytest.mark.django_db

Q3 = date(2026, 7, 1)


@pytest.fixture
def september_delay(org, overdue_step):
    """Marketing (Berlin, 09:00–17:00, EUR 200/day): a laptop request submitted Mon 7 Sep
    2026 09:00, due 17:00, scanned every evening, approved Fri 11 Sep 18:30: 32 business
    hours overdue (Tue–Fri), EUR 800, all in Q3 — a quarter long closed."""
    org.item["laptop"].cost_of_delay_per_day = Decimal("200.00")
    org.item["laptop"].save(update_fields=["cost_of_delay_per_day"])
    step = overdue_step(berlin(2026, 9, 7, 9, 0))
    for day in range(7, 12):
        flag_delays(now=berlin(2026, 9, day, 18, 0))
    step_approve(actor=org.hank, step=step, at=berlin(2026, 9, 11, 18, 30))
    risk = DelayRisk.objects.get(step=step)
    assert (risk.overdue_seconds, risk.exposure) == (Decimal(32 * 3600), Decimal("800.00"))
    return risk


def _form_data(response, **changes) -> dict:
    """Everything the admin's change form would post back, with ``changes`` applied."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            if bound.field.show_hidden_initial:  # the browser posts these back too
                data[bound.html_initial_name] = bound.initial
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = value.strftime("%H:%M") if isinstance(value, time) else value
    data.update(changes)
    return data


def _change(admin_client, department: Department, **changes):
    url = reverse("admin:governance_department_change", args=[department.pk])
    return admin_client.post(url, _form_data(admin_client.get(url), **changes))


def _q3_amount() -> Decimal:
    return DelayPosting.objects.filter(quarter=Q3).aggregate(s=Sum("amount"))["s"]


def test_a_correction_posts_the_difference_as_an_adjustment_of_the_closed_quarter(
        org, september_delay, admin_client):
    risk = september_delay
    q3_before = _q3_amount()

    # The desk really worked 09:00–13:00 from Wednesday 9 September on.
    response = _change(admin_client, org.dept["MKT"], work_end="13:00",
                       correct_from="2026-09-09")
    assert response.status_code == 302, response.context["adminform"].form.errors

    risk.refresh_from_db()
    # Wed–Fri count 4 h each instead of 8: 12 business hours (EUR 300) less.
    assert (risk.overdue_seconds, risk.exposure) == (Decimal(20 * 3600), Decimal("500.00"))
    correction = risk.postings.get(reason=PostingReason.CORRECTION)
    assert correction.period == Q3
    assert correction.quarter == quarter_of(timezone.now(), reporting_tz())  # open quarter
    assert correction.is_adjustment
    assert (correction.seconds, correction.amount) == (Decimal(-12 * 3600), Decimal("-300.00"))
    assert correction.note == "Calendar corrected from 2026-09-09"
    # The closed quarter kept its figure; the risk's postings still sum to its exposure.
    assert _q3_amount() == q3_before
    assert risk.postings.aggregate(s=Sum("amount"))["s"] == risk.exposure
    # Both changes are in the audit trail.
    changed = AuditEvent.objects.get(verb=AuditVerb.DEPARTMENT_CALENDAR_CHANGED)
    assert changed.data["correct_from"] == "2026-09-09"
    assert "09:00–17:00" in changed.data["before"] and "09:00–13:00" in changed.data["after"]
    corrected = AuditEvent.objects.get(verb=AuditVerb.RISK_CORRECTED)
    assert (corrected.from_state, corrected.to_state) == ("800.00", "500.00")
    assert corrected.correlation == risk.request.reference


def test_without_a_correction_date_the_calendar_counts_from_now_on(
        org, september_delay, admin_client):
    risk = september_delay
    response = _change(admin_client, org.dept["MKT"], work_end="13:00")
    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.exposure == Decimal("800.00")
    assert not DelayPosting.objects.filter(reason=PostingReason.CORRECTION).exists()
    assert AuditEvent.objects.filter(verb=AuditVerb.DEPARTMENT_CALENDAR_CHANGED).count() == 1
    assert Department.objects.get(pk=org.dept["MKT"].pk).work_end == time(13, 0)


@pytest.mark.parametrize("changes, message", [
    ({"work_end": "13:00", "correct_from": "FUTURE"}, "cannot start in the future"),
    ({"correct_from": "2026-09-09"}, "Nothing to correct"),
])
def test_a_correction_that_cannot_be_made_is_refused_and_changes_nothing(
        org, september_delay, admin_client, changes, message):
    if changes.get("correct_from") == "FUTURE":
        changes["correct_from"] = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = _change(admin_client, org.dept["MKT"], **changes)
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors["correct_from"])
    assert Department.objects.get(pk=org.dept["MKT"].pk).work_end == time(17, 0)
    assert not DelayPosting.objects.filter(reason=PostingReason.CORRECTION).exists()
    assert not AuditEvent.objects.filter(verb=AuditVerb.DEPARTMENT_CALENDAR_CHANGED).exists()
