"""Budgets per cost centre and quarter, and the commitment ledger the lifecycle writes."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.models import Budget, BudgetFigures, CommitmentItemFigures, CommitmentPosting
from accountability.services.budget_figures import budget_figures_verify
from accountability.services.budgets import (
    budget_set,
    budgets_import,
    current_quarter,
    used_in,
)
from approvals.choices import StepState
from approvals.models import Step
from approvals.services import (
    request_cancel,
    step_approve,
    step_claim,
    step_complete,
    step_reject,
)
from approvals.signals import request_approved
from governance.errors import Conflict, NotAllowed, ValidationFailed
from governance.models import AuditEvent
from governance.periods import quarter_label
from requests_app.models import ServiceRequest

BERLIN = ZoneInfo("Europe/Berlin")
# A last approval that commits, on PostgreSQL: the request's and its steps' locks (with
# whether the step has an open delay risk), the step closed with its audit event (one
# statement), the notice (with the "waiting" ones marked read, the e-mail preferences and
# the delivery task), the commitment (one statement; four before), the request moved on
# (the step, the request and the audit events in one statement): 6, and the savepoint
# around them (10 while each change and its audit events were two statements, 13 before
# the notices and the handoff were one statement each). SQLite writes the notices
# and the handoff as before (the delay risk is known from the lock there too): 15.
APPROVAL_STATEMENTS = 8
SQLITE_APPROVAL_STATEMENTS = 17


def active(request):
    return request.steps.get(state=StepState.ACTIVE)


def ledger(request) -> list[tuple[str, str]]:
    return [(p.kind, str(p.amount)) for p in CommitmentPosting.objects.filter(request=request)]


def approve_all(org, request, **kwargs):
    step_approve(actor=org.hank, step=active(request), **kwargs)
    step = active(request)
    if step.kind == "approval":
        step_approve(actor=org.fiona, step=step, **kwargs)


def fulfil(org, request, **kwargs):
    step = active(request)
    step_claim(actor=org.ivan, step=step)
    step_complete(actor=org.ivan, step=step, **kwargs)


@pytest.fixture
def q1(org):
    """Marketing's budget for the current quarter: EUR 10,000."""
    return budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
                      amount="10000")


def remaining(org, quarter=None) -> Decimal:
    quarter = quarter or current_quarter()
    budget = Budget.objects.get(department=org.dept["MKT"], quarter=quarter).amount
    return budget - used_in(org.dept["MKT"].pk, quarter)


# --- Budgets ---------------------------------------------------------------------------------
def test_finance_controllers_set_budgets_and_the_trail_records_it(org):
    budget = budget_set(actor=org.felix, department=org.dept["MKT"], quarter="2027 Q1",
                        amount="60,000.00")
    assert (budget.quarter.isoformat(), budget.amount) == ("2027-01-01", Decimal("60000.00"))
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter="2027-Q1", amount="65000")
    events = AuditEvent.objects.filter(verb="budget.set").order_by("id")
    assert [(e.data["before"], e.data["after"]) for e in events] == [
        (None, "60000.00"), ("60000.00", "65000.00")]
    assert Budget.objects.get().amount == Decimal("65000")


@pytest.mark.parametrize("who", ["hank", "alice", "olivia", "ivan"])
def test_only_finance_controllers_set_budgets(org, who):
    with pytest.raises(NotAllowed) as refused:
        budget_set(actor=getattr(org, who), department=org.dept["MKT"], quarter="2027 Q1",
                   amount="1")
    assert refused.value.code == "not_finance_controller"
    assert not Budget.objects.exists()


def test_a_quarter_that_is_no_quarter_is_refused(org):
    with pytest.raises(ValidationFailed) as refused:
        budget_set(actor=org.fiona, department=org.dept["MKT"], quarter="2027-02-01",
                   amount="1")
    assert refused.value.code == "invalid_quarter"


def _csv(tmp_path, text, name="budgets.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_import_is_all_or_nothing_with_line_numbers(org, tmp_path):
    path = _csv(tmp_path, "cost_centre,quarter,amount\n"
                          "CC-1700,2027 Q1,60000\n"
                          "CC-9999,2027 Q1,100\n"
                          "CC-1200,2027 Q5,100\n"
                          "CC-1700,2027-Q1,5\n")
    with pytest.raises(ValidationFailed) as refused:
        budgets_import(actor=org.fiona, path=path)
    errors = refused.value.field_errors["file"]
    assert errors[0].startswith("line 3: no cost centre “CC-9999”")
    assert errors[1].startswith("line 4: “2027 Q5” is not a quarter")
    assert errors[2].startswith("line 5: CC-1700 2027 Q1 is already on line 2")
    assert not Budget.objects.exists()


def test_the_import_is_idempotent_by_the_budget_key(org, tmp_path):
    path = _csv(tmp_path, "Cost_Centre,Quarter,Amount,Note\n"
                          "CC-1700,2027 Q1,60000,Campaigns\n"
                          "MKT,2027 Q2,55000.50,\n"
                          "CC-1100,Q1 2027,1000,\n")
    first = budgets_import(actor=org.fiona, path=path)
    assert (first.created, first.changed, first.unchanged) == (3, 0, 0)
    events = AuditEvent.objects.filter(verb="budget.set").count()
    again = budgets_import(actor=org.fiona, path=path)
    assert (again.created, again.changed, again.unchanged) == (0, 0, 3)
    assert AuditEvent.objects.filter(verb="budget.set").count() == events
    assert sorted((b.department.code, b.quarter.isoformat(), str(b.amount))
                  for b in Budget.objects.all()) == [
        ("FIN", "2027-01-01", "1000.00"), ("MKT", "2027-01-01", "60000.00"),
        ("MKT", "2027-04-01", "55000.50")]


def test_the_import_reads_xlsx_too(org, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["cost_centre", "quarter", "amount"])
    book.active.append(["CC-1700", "2027 Q3", 12000])
    path = tmp_path / "budgets.xlsx"
    book.save(path)
    assert budgets_import(actor=org.fiona, path=path).created == 1
    assert Budget.objects.get().amount == Decimal("12000")


# --- The commitment ledger -------------------------------------------------------------------
def test_the_last_approval_commits_and_fulfilment_posts_the_actual(org, submit, q1):
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active(request))
    assert ledger(request) == []  # finance has not approved yet
    step_approve(actor=org.fiona, step=active(request))
    assert ledger(request) == [("commit", "7500.00")]
    assert remaining(org) == Decimal("2500.00")
    fulfil(org, request)
    assert ledger(request) == [("commit", "7500.00"), ("actual", "7500.00"),
                               ("release", "7500.00")]
    assert remaining(org) == Decimal("2500.00")


def test_an_actual_below_the_estimate_gives_the_difference_back(org, submit, q1):
    item = org.item["laptop"]
    item.records_actual_cost = True
    item.save(update_fields=["records_actual_cost"])
    request = submit(cost="1200")
    approve_all(org, request)
    assert remaining(org) == Decimal("8800.00")
    fulfil(org, request, actual_cost="950")
    assert remaining(org) == Decimal("9050.00")


@pytest.mark.parametrize("end", ["reject", "cancel"])
def test_rejection_or_cancellation_releases_the_commitment(org, submit, q1, end):
    request = submit(cost="7500")
    approve_all(org, request)
    if end == "reject":
        # Approved, then cancelled during execution (a rejection before commitment posts
        # nothing at all).
        rejected = submit(cost="300")
        step_reject(actor=org.hank, step=active(rejected), comment="Not now")
        assert ledger(rejected) == []
    request_cancel(actor=org.alice, request=request, reason="Project stopped")
    assert ledger(request) == [("commit", "7500.00"), ("release", "7500.00")]
    assert remaining(org) == Decimal("10000.00")


def test_approving_beyond_the_remaining_budget_needs_a_reason(org, submit, q1):
    first = submit(cost="7500")
    approve_all(org, first)
    second = submit(cost="6000")
    step_approve(actor=org.hank, step=active(second))
    with pytest.raises(Conflict) as refused:
        step_approve(actor=org.fiona, step=active(second))
    assert refused.value.code == "over_budget"
    assert refused.value.message.startswith(
        f"Marketing {quarter_label(current_quarter())} has €2,500.00 left and "
        f"{second.reference} costs €6,000.00: approving takes it over budget.")
    assert active(second).name == "Finance approval"  # nothing changed
    assert ledger(second) == []

    step_approve(actor=org.fiona, step=active(second),
                 over_budget_reason="Launch moved forward by the board")
    posting = CommitmentPosting.objects.get(request=second)
    assert posting.over_budget_reason == "Launch moved forward by the board"
    event = AuditEvent.objects.get(verb="request.over_budget")
    assert event.data["reason"] == "Launch moved forward by the board"
    assert remaining(org) == Decimal("-3500.00")


def test_without_a_budget_nothing_is_refused_but_everything_is_booked(org, submit):
    request = submit(cost="7500")
    approve_all(org, request)
    assert ledger(request) == [("commit", "7500.00")]


def test_a_late_event_after_the_quarter_closed_is_an_adjustment_in_the_open_quarter(
        org, submit, settings):
    then = datetime(2026, 3, 20, 10, tzinfo=BERLIN)  # 2026 Q1, closes 9 April
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter="2026 Q1", amount="10000",
               at=then)
    request = submit(cost="1200", at=then)
    step_approve(actor=org.hank, step=active(request), at=then + timedelta(hours=1))
    later = datetime(2026, 5, 4, 10, tzinfo=BERLIN)
    request_cancel(actor=org.alice, request=request, at=later)
    release = CommitmentPosting.objects.get(request=request, kind="release")
    assert (release.quarter.isoformat(), release.period.isoformat()) == ("2026-04-01",
                                                                         "2026-01-01")
    assert remaining(org, datetime(2026, 1, 1).date()) == Decimal("8800.00")  # Q1 stays


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postings_cannot_be_changed_or_deleted_on_postgresql(org, submit, q1):
    assert connection.vendor == "postgresql"
    request = submit(cost="100")
    approve_all(org, request)
    posting = CommitmentPosting.objects.get(request=request)
    for statement in ("UPDATE accountability_commitmentposting SET amount = 1",
                      "DELETE FROM accountability_commitmentposting"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(statement)
    posting.refresh_from_db()
    assert posting.amount == Decimal("100.00")
    assert timezone.now()


def test_a_budget_condition_inserts_the_finance_step_below_the_reserve(org, submit, q1):
    finance = org.item["laptop"].path.templates.get(name="Finance approval")
    finance.budget_reserve_percent = Decimal("20")
    finance.save(update_fields=["budget_reserve_percent"])
    # 10,000 left, 1,200 leaves 8,800: above the 2,000 reserve, below the 5,000 threshold.
    easy = submit(cost="1200")
    assert easy.steps.get(name="Finance approval").state == StepState.SKIPPED
    big = submit(cost="7500")
    approve_all(org, big)  # 2,500 left
    tight = submit(cost="1200")  # would leave 1,300 < 2,000
    assert tight.steps.get(name="Finance approval").state == StepState.PENDING
    step_approve(actor=org.hank, step=active(tight))
    assert active(tight).name == "Finance approval"


def test_the_demo_budgets_cover_every_cost_centre_and_keep_marketing_tight(org, submit):
    from demo.budgets import TIGHT, seed_budgets

    request = submit(cost="7500")
    approve_all(org, request)
    created = seed_budgets()
    centres = org.dept.values().__len__()
    assert created == 4 * centres
    assert seed_budgets() == 0  # idempotent
    assert remaining(org) == TIGHT


def test_the_last_approval_commits_in_one_statement(org, submit, q1):
    # Given a request waiting for its last approval, content types cached as in a running
    # server
    ContentType.objects.get_for_models(ServiceRequest, Step)
    request = submit(cost="7500")
    step_approve(actor=org.hank, step=active(request))
    step = active(request)

    # When fiona approves it: the commitment is one statement on PostgreSQL (is it committed
    # already, the stored figures, the work in flight and the posting); SQLite takes four
    with CaptureQueriesContext(connection) as approval:
        step_approve(actor=org.fiona, step=step)
    ledger_statements = [q["sql"] for q in approval.captured_queries
                         if "accountability_commitment" in q["sql"]
                         or "accountability_budgetfigures" in q["sql"]]
    postgresql = connection.vendor == "postgresql"
    assert len(ledger_statements) == (1 if postgresql else 4), ledger_statements
    assert len(approval.captured_queries) == (APPROVAL_STATEMENTS if postgresql
                                              else SQLITE_APPROVAL_STATEMENTS)

    # Then the figures, the work in flight and the ledger hold it
    assert ledger(request) == [("commit", "7500.00")]
    assert remaining(org) == Decimal("2500.00")
    assert CommitmentItemFigures.objects.get(department=org.dept["MKT"]).in_flight == \
        Decimal("7500.00")
    assert budget_figures_verify() == []


def test_a_request_commits_once_however_often_its_approval_is_announced(org, submit, q1):
    request = submit(cost="7500")
    approve_all(org, request)
    step = request.steps.filter(state=StepState.APPROVED).last()
    request_approved.send(sender=Step, request=request, step=step, actor=org.fiona,
                          over_budget_reason="", at=timezone.now())
    assert ledger(request) == [("commit", "7500.00")]
    assert remaining(org) == Decimal("2500.00")
    assert budget_figures_verify() == []


def test_an_approval_over_budget_changes_no_figure_when_refused(org, submit, q1):
    first = submit(cost="9000")
    approve_all(org, first)
    second = submit(cost="1500")  # below the finance threshold: the head's is the last
    before = list(BudgetFigures.objects.values())
    with pytest.raises(Conflict) as refused:
        step_approve(actor=org.hank, step=active(second))
    assert "has €1,000.00 left" in refused.value.message
    assert list(BudgetFigures.objects.values()) == before
    assert CommitmentItemFigures.objects.get(department=org.dept["MKT"]).in_flight == \
        Decimal("9000.00")

    step_approve(actor=org.hank, step=active(second), over_budget_reason="Year-end deal")
    figures = BudgetFigures.objects.get(department=org.dept["MKT"], quarter=current_quarter())
    assert (figures.committed, figures.over_budget) == (Decimal("10500.00"), 1)
    event = AuditEvent.objects.get(verb="request.over_budget")
    assert (event.data["remaining_before"], event.data["remaining_after"]) == ("1000.00",
                                                                               "-500.00")
    assert budget_figures_verify() == []
