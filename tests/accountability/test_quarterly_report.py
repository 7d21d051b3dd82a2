"""The quarterly cost report: numbers checked against a hand-computed history, scoping, and
the CSV / XLSX downloads carrying exactly the page's numbers."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.formats import localize

from accountability.figures import refresh_figures
from accountability.models import DelayRisk
from accountability.report import quarterly_report, report_table
from approvals.services import step_approve, step_complete, step_reject
from governance.models import Department
from governance.periods import last_quarters
from kit.i18n import amount_text
from tests.factories import (
    active_step,
    local,
    working_day,
    working_days_before,
)


@pytest.fixture
def history(org, submit):
    """Two past quarters P1 (older) and P2 of hand-made history.

    Every department here works one calendar (Europe/Berlin, 9–17 on working days). L is
    P1's last working day, W1 and W4 the working days one and four before it, F P2's first.

    P1: alice (Marketing) submits R1 (1200, laptop: EUR 150 cost of delay a day) at W4 9:00
        and R2 (7000) at W1 9:00; hank approves R1 at W4 14:00 and R2 at W1 11:00 (both on
        time). R1 needs no finance approval, so its last approval is hank's, in P1.
    P2: fiona gives R2's finance approval (its last approval) at F 15:00 → approved in P2;
        ivan fulfils R1 at F 10:00, after R1's due time (late); carol (HR) submits R3 (100),
        helen approves, finn fulfils it two hours after submission (on time); bob
        (Marketing) submits R4, hank rejects it.
    Late closures (no scan runs: closing the step records its delay, business hours ÷ 8 ×
    150 per day):
    - R1's IT fulfilment (OLA 32 h from W4 14:00) was due at L 14:00 and closed at F 10:00:
      3 h in P1 → 56.25, 1 h in P2 → 18.75, charged to IT;
    - R2's finance approval (OLA 16 h from W1 11:00: 6 h + 8 h + 2 h) was due at F 11:00 and
      closed at F 15:00: 4 h in P2 → 75.00, charged to Finance.
    """
    p1, p2, _current = last_quarters(3)
    calendar = org.dept["IT"].calendar
    assert org.dept["MKT"].calendar == org.dept["FIN"].calendar == calendar
    last = working_day(calendar, p2 - timedelta(days=1), step=-1)
    w1, w4 = working_days_before(calendar, last, 1), working_days_before(calendar, last, 4)
    first = working_day(calendar, p2)

    def at(day, hour):
        return datetime.combine(day, time(hour), calendar.tz)

    r1 = submit(cost="1200", at=at(w4, 9))
    step_approve(actor=org.hank, step=active_step(r1), at=at(w4, 14))
    it_step = active_step(r1)
    assert it_step.due_at == at(last, 14)
    r2 = submit(cost="7000", at=at(w1, 9))
    step_approve(actor=org.hank, step=active_step(r2), at=at(w1, 11))
    finance = active_step(r2)
    assert finance.due_at == at(first, 11)
    step_complete(actor=org.ivan, step=it_step, at=at(first, 10))
    step_approve(actor=org.fiona, step=finance, at=at(first, 15))
    r3 = submit(actor=org.carol, item="expenses", cost="100", at=local(p2 + timedelta(days=2), 10))
    step_approve(actor=org.helen, step=active_step(r3), at=local(p2 + timedelta(days=2), 11))
    step_complete(actor=org.finn, step=active_step(r3), at=local(p2 + timedelta(days=2), 12))
    r4 = submit(actor=org.bob, item="access", cost="0",
               answers={"details": "CRM read access.", "system": "CRM"}, at=local(p2 + timedelta(days=2), 9))
    step_reject(actor=org.hank, step=active_step(r4), comment="No.", at=local(p2 + timedelta(days=2), 9, 30))
    # Only the two late closures above left a delay behind.
    assert sorted(DelayRisk.objects.values_list("step_id", "exposure")) == sorted(
        [(it_step.pk, Decimal("75.00")), (finance.pk, Decimal("75.00"))])
    return p1, p2


def cells(blocks):
    return {(b.quarter, r.department.code): r for b in blocks for r in b.rows}


def test_each_cost_centre_and_quarter_shows_the_hand_computed_figures(org, history):
    p1, p2 = history

    blocks = quarterly_report(list(Department.objects.all()), quarters=3)

    got = cells(blocks)
    mkt1, mkt2 = got[(p1, "MKT")], got[(p2, "MKT")]
    assert (mkt1.submitted, mkt1.approved_spend, mkt1.fulfilled_spend) == (2, Decimal("1200"), 0)
    assert (mkt2.submitted, mkt2.approved_spend, mkt2.fulfilled_spend) == (
        1, Decimal("7000"), Decimal("1200"))
    assert (mkt2.fulfilled, mkt2.on_time, mkt2.on_time_rate) == (1, 0, Decimal("0.0"))
    hr2 = got[(p2, "HR")]
    assert (hr2.submitted, hr2.approved_spend, hr2.fulfilled_spend, hr2.on_time_rate) == (
        1, Decimal("100"), Decimal("100"), Decimal("100.0"))
    # Cost of delay is charged to the department whose step was late, not to the requester.
    assert got[(p1, "IT")].cost_of_delay == Decimal("56.25")
    assert got[(p2, "IT")].cost_of_delay == Decimal("18.75")
    assert got[(p2, "FIN")].cost_of_delay == Decimal("75.00")
    assert got[(p1, "FIN")].cost_of_delay == 0
    assert got[(p2, "MKT")].cost_of_delay == 0
    total2 = next(b for b in blocks if b.quarter == p2).total
    assert (total2.submitted, total2.approved_spend, total2.fulfilled_spend,
            total2.cost_of_delay, total2.fulfilled, total2.on_time) == (
        2, Decimal("7100"), Decimal("1300"), Decimal("93.75"), 2, 1)
    assert total2.on_time_rate == Decimal("50.0")


def test_newest_quarter_comes_first_and_every_department_has_a_row(org, history):
    p1, p2 = history

    blocks = quarterly_report(list(Department.objects.all()), quarters=3)

    assert [b.quarter for b in blocks][1:] == [p2, p1]
    assert all(len(b.rows) == Department.objects.count() for b in blocks)


def test_a_head_sees_their_cost_centre_and_an_employee_is_refused(client, org, history):
    client.force_login(org.hank)
    page = client.get("/reports/?quarters=3", secure=True)
    assert page.status_code == 200
    departments = {r.department.code for b in page.context["blocks"] for r in b.rows}
    assert departments == {"MKT"}

    client.force_login(org.alice)
    assert client.get("/reports/", secure=True).status_code == 403
    client.force_login(org.ivan)
    assert client.get("/reports/?format=csv", secure=True).status_code == 403


def test_the_csv_download_carries_exactly_the_numbers_on_the_page(client, org, history):
    client.force_login(org.olivia)
    page = client.get("/reports/?quarters=3", secure=True)
    download = client.get("/reports/?quarters=3&format=csv", secure=True)

    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[1:] == report_table(page.context["blocks"])
    html = page.content.decode()
    for row in rows[1:]:
        for number in row[3:8]:  # in the reader's language on the page: 7,000.00, 1,204
            shown = amount_text(Decimal(number)) if "." in number else localize(int(number or 0))
            assert f">{shown if number else ''}<" in html
    assert ["Total", "2", "7100.00", "1300.00", "93.75", "2", "1", "50.0"] in [
        r[2:] for r in rows]


def test_the_xlsx_download_has_the_same_rows_as_the_csv(client, org, history):
    client.force_login(org.olivia)
    csv_rows = list(csv.reader(io.StringIO(
        client.get("/reports/?quarters=3&format=csv", secure=True).content.decode())))
    xlsx = client.get("/reports/?quarters=3&format=xlsx", secure=True)

    sheet = tablib.Dataset().load(xlsx.content, format="xlsx")
    assert [list(sheet.headers)] + [["" if v is None else str(v) for v in row] for row in sheet] == csv_rows


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "recomputed"])
def test_the_report_answers_in_the_same_number_of_queries_whatever_the_data(
        client, org, submit, stored, settings, django_assert_max_num_queries):
    if stored:
        settings.SRM_FIGURES_MAX_AGE = settings.SRM_FIGURES_OPEN_MAX_AGE = 3600
    client.force_login(org.olivia)
    submit()
    if stored:
        refresh_figures(everything=True)
    with CaptureQueriesContext(connection) as small:
        client.get("/reports/?quarters=4", secure=True)
    for _ in range(5):
        request = submit(cost="7000")
        step_approve(actor=org.hank, step=active_step(request))
    if stored:
        refresh_figures(everything=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/reports/?quarters=4", secure=True).status_code == 200
    # Stored: session, user, the departments in scope (2), the quarters' stamps, their rows
    # and the navigation's two: my roles (one EXISTS row) and the badges' counts (one
    # statement). Change-plan and accountability visibility ask nothing
    # for an ops leader. Recomputed: the stamps' insert and locks, the report's four grouped
    # queries, the delete and insert of the quarters' rows and the stamps' update on top.
    assert len(small.captured_queries) <= (8 if stored else 19)
