"""The budget report (/reports/budgets/): who sees it, what finance does there, and that page,
CSV, XLSX and API give the same figures, each a sum of ledger postings."""

import csv
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from openpyxl import load_workbook

from accountability.budget_report import budget_blocks, budget_watch
from accountability.models import Budget, CommitmentPosting
from accountability.services.budgets import budget_set, current_quarter
from approvals.choices import StepState
from approvals.services import request_cancel, step_approve, step_claim, step_complete
from governance.models import AuditEvent, Department
from governance.periods import quarter_label
from kit.i18n import amount_text
from tests.factories import api_token

URL = "/reports/budgets/"


def active(request):
    return request.steps.get(state=StepState.ACTIVE)


@pytest.fixture
def history(org, submit):
    """Marketing, current quarter: budget 10,000; one request fulfilled (7,500 committed,
    actual 7,500), one approved and in flight (1,200), one cancelled after approval (300)
    and one approved over budget (6,000, with a reason)."""
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="10000")
    done = submit(cost="7500")
    step_approve(actor=org.hank, step=active(done))
    step_approve(actor=org.fiona, step=active(done))
    step_claim(actor=org.ivan, step=active(done))
    step_complete(actor=org.ivan, step=active(done))
    flight = submit(cost="1200")
    step_approve(actor=org.hank, step=active(flight))
    gone = submit(cost="300")
    step_approve(actor=org.hank, step=active(gone))
    request_cancel(actor=org.alice, request=gone, reason="Not needed")
    over = submit(cost="6000")
    step_approve(actor=org.hank, step=active(over))
    step_approve(actor=org.fiona, step=active(over), over_budget_reason="Board decision")
    return org


def marketing_line(rows):
    return next(r for r in rows if r[1] == "CC-1700" and r[0] == quarter_label(current_quarter()))


def test_the_figures_reconcile_and_are_sums_of_postings(client, history):
    client.force_login(history.olivia)
    response = client.get(URL + "?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    line = marketing_line(rows)
    # budget, committed, actual, released, remaining, used %, cost of delay, over budget
    assert line[3:11] == ["10000.00", "15000.00", "7500.00", "7800.00", "-4700.00", "147.0",
                          "0.00", "1"]
    budget, committed, actual, released, remaining = (Decimal(v) for v in line[3:8])
    assert budget - committed - actual + released == remaining
    postings = CommitmentPosting.objects.filter(department=history.dept["MKT"],
                                                quarter=current_quarter())
    for kind, value in (("commit", committed), ("actual", actual), ("release", released)):
        assert postings.filter(kind=kind).aggregate(s=Sum("amount"))["s"] == value


def test_page_csv_xlsx_and_api_agree(client, history):
    client.force_login(history.olivia)
    page = client.get(URL).content.decode()
    rows = list(csv.reader(io.StringIO(client.get(URL + "?format=csv").content.decode())))
    book = load_workbook(io.BytesIO(client.get(URL + "?format=xlsx").content), read_only=True)
    sheet = [[("" if v is None else str(v)) for v in r] for r in book.active.iter_rows(
        values_only=True)]
    assert sheet[1:] == rows[1:]
    line = marketing_line(rows)
    for cell in line[3:8]:  # the page writes them in the reader's language: 10,000.00
        assert f">{amount_text(Decimal(cell))}<" in page
    token = api_token(history.olivia)
    api = client.get("/api/v1" + URL, HTTP_AUTHORIZATION=f"Token {token}").json()
    current = next(b for b in api["results"] if b["current"])
    marketing = next(r for r in current["rows"] if r["department"]
                     and r["department"]["code"] == "MKT")
    assert [marketing[k] for k in ("budget", "committed", "actual", "released", "remaining")] \
        == line[3:8]
    assert marketing["over_budget"] == 1


def test_the_forecast_scales_work_in_flight_and_flags_an_overrun(client, history):
    client.force_login(history.olivia)
    rows = list(csv.reader(io.StringIO(client.get(URL + "?format=csv").content.decode())))
    # No history before this quarter: ratio 1, forecast = remaining.
    assert marketing_line(rows)[11] == "-4700.00"
    page = client.get(URL).content.decode()
    assert "Forecast to overrun this quarter" in page


@pytest.mark.parametrize("who, status", [("olivia", 200), ("fiona", 200), ("felix", 200),
                                         ("hank", 200), ("alice", 403), ("ivan", 403)])
def test_who_sees_budgets(client, history, who, status):
    client.force_login(getattr(history, who))
    response = client.get(URL)
    assert response.status_code == status
    if who == "hank":  # his own department's line, not Finance's
        text = response.content.decode()
        assert "CC-1700" in text and "CC-1100" not in text


def test_finance_sets_a_budget_on_the_page_and_others_cannot(client, org):
    client.force_login(org.hank)
    response = client.post(URL + "set/", {"department": org.dept["MKT"].pk,
                                          "quarter": "2027 Q1", "amount": "1000"})
    assert response.status_code == 403
    assert not Budget.objects.exists()
    client.force_login(org.felix)
    response = client.post(URL + "set/", {"department": org.dept["MKT"].pk,
                                          "quarter": "2027 Q5", "amount": "1000"})
    assert response.status_code == 400
    assert "Write the quarter as 2027 Q1." in response.content.decode()
    response = client.post(URL + "set/", {"department": org.dept["MKT"].pk,
                                          "quarter": "2027 Q1", "amount": "60,000"},
                           HTTP_ACCEPT_LANGUAGE="en-GB")
    assert response.status_code == 302
    assert Budget.objects.get().amount == Decimal("60000")
    assert AuditEvent.objects.filter(verb="budget.set", actor=org.felix).exists()


def test_finance_imports_budgets_on_the_page(client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(org.fiona)
    bad = SimpleUploadedFile("b.csv", b"cost_centre,quarter,amount\nCC-1700,2027 Q1,x\n")
    response = client.post(URL + "import/", {"file": bad})
    assert response.status_code == 400
    assert "line 2:" in response.content.decode()
    assert not Budget.objects.exists()
    good = SimpleUploadedFile("b.csv", b"cost_centre,quarter,amount\nCC-1700,2027 Q1,500\n")
    response = client.post(URL + "import/", {"file": good}, follow=True)
    assert "1 budget rows read: 1 new" in response.content.decode()
    assert Budget.objects.get().amount == Decimal("500")


def test_the_board_flags_the_overrun_and_counts_over_budget_approvals(client, history):
    client.force_login(history.olivia)
    page = client.get("/dashboard/").content.decode()
    assert "Budgets this quarter" in page
    assert "forecast to overrun, -4,700.00 EUR at quarter end" in page
    assert "1 approval over budget" in page


@pytest.mark.parametrize("scope", ["everything", "MKT and IT", "HR"])
def test_the_board_s_budget_lines_are_the_report_s_rows(history, scope):
    # The board reads only the cost centres that can show up; the lines, their figures and
    # their forecasts are the budget report's current quarter, in the board's order.
    everything = scope == "everything"
    departments = list(Department.objects.order_by("name") if everything
                       else Department.objects.filter(code__in=scope.split(" and ")))
    budget_set(actor=history.fiona, department=history.dept["IT"], quarter=current_quarter(),
               amount="500")  # a budget, nothing used: not on the board

    def shown(rows):
        return [(r.department.code, r.budget, r.remaining, r.forecast, r.overruns,
                 r.over_budget) for r in rows if r.overruns or r.over_budget]

    report = budget_blocks(departments, quarters=1, everything=everything)[0].rows
    watch = budget_watch([d.pk for d in departments], everything=everything)
    assert shown(watch) == shown(report)
    assert [r.department.code for r in watch] == (["MKT"] if scope != "HR" else [])
