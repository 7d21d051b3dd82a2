"""The stored budget figures: the sums the budget report, the inbox cards and the budget
check read instead of the ledger. They change with every posting, in its transaction; the
ledger stays the truth, and ``verify_budget_figures`` finds and repairs any difference."""

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accountability.models import BudgetFigures, CommitmentItemFigures, ItemActualFigures
from accountability.services.budget_figures import budget_figures_verify
from accountability.services.budgets import OverBudget, budget_set, current_quarter, used_in
from approvals.choices import StepState
from approvals.services import step_approve, step_claim, step_complete
from governance.periods import last_quarters

URL = "/reports/budgets/"
pytestmark = pytest.mark.django_db


def active(request):
    return request.steps.select_related("accountable_head").get(state=StepState.ACTIVE)


def _marketing_line(client):
    rows = list(csv.reader(io.StringIO(client.get(URL + "?format=csv").content.decode())))
    label = f"{current_quarter().year} Q{(current_quarter().month - 1) // 3 + 1}"
    return next(r for r in rows if r[1] == "CC-1700" and r[0] == label)


def test_a_budget_and_each_posting_change_the_stored_quarter_in_their_transaction(org, submit):
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="5000")
    figures = BudgetFigures.objects.get(department=org.dept["MKT"], quarter=current_quarter())
    assert (figures.budget, figures.used) == (Decimal("5000.00"), Decimal("0.00"))
    request = submit(cost="1200")
    step_approve(actor=org.hank, step=active(request))
    figures.refresh_from_db()
    assert (figures.committed, figures.remaining) == (Decimal("1200.00"), Decimal("3800.00"))
    assert used_in(org.dept["MKT"].pk, current_quarter()) == Decimal("1200.00")
    assert budget_figures_verify() == []


def test_a_refusal_caught_in_the_same_transaction_leaves_the_figures_right(org, submit):
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="1000")
    request = submit(cost="1200")
    with transaction.atomic():
        with pytest.raises(OverBudget):
            step_approve(actor=org.hank, step=active(request))
        # Whoever goes on after the refusal sees the budget untouched.
        figures = BudgetFigures.objects.get(department=org.dept["MKT"],
                                            quarter=current_quarter())
        assert (figures.committed, figures.over_budget) == (Decimal("0.00"), 0)
        assert budget_figures_verify() == []


def test_the_forecast_scales_work_in_flight_by_last_quarters_actuals(client, org, submit):
    """A laptop fulfilled last quarter cost 20 % over its estimate: a laptop in flight this
    quarter is forecast 20 % over its commitment."""
    org.item["laptop"].records_actual_cost = True
    org.item["laptop"].save(update_fields=["records_actual_cost"])
    previous = last_quarters(2)[0]
    at = timezone.make_aware(datetime.combine(previous + timedelta(days=20), time(10)))
    done = submit(cost="1000", at=at)
    step_approve(actor=org.hank, step=active(done), at=at + timedelta(hours=1))
    step_claim(actor=org.ivan, step=active(done), at=at + timedelta(hours=2))
    step_complete(actor=org.ivan, step=active(done), actual_cost=Decimal("1200"),
                  at=at + timedelta(hours=3))
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="10000")
    flight = submit(cost="2000")
    step_approve(actor=org.hank, step=active(flight))
    client.force_login(org.olivia)
    line = _marketing_line(client)
    # remaining 8,000; the 2,000 in flight is forecast to cost 2,400.
    assert (line[7], line[11]) == ("8000.00", "7600.00")
    history = ItemActualFigures.objects.get(item=org.item["laptop"], period=previous)
    assert (history.estimate, history.actual) == (Decimal("1000.00"), Decimal("1200.00"))
    assert CommitmentItemFigures.objects.get(
        department=org.dept["MKT"], item=org.item["laptop"], period=current_quarter(),
    ).in_flight == Decimal("2000.00")
    assert budget_figures_verify() == []


def test_the_forecast_is_the_same_to_the_cent_on_every_database(client, org, submit):
    """Laptops ran 3,100 on 3,000 estimated last quarter (a ratio of 1.0333…): the 1,500.15
    in flight is forecast 50.005 over, so 8,499.85 left becomes 8,449.85 (half a cent rounds
    up) — on SQLite, which keeps no decimals, as on PostgreSQL."""
    org.item["laptop"].records_actual_cost = True
    org.item["laptop"].save(update_fields=["records_actual_cost"])
    at = timezone.make_aware(datetime.combine(last_quarters(2)[0] + timedelta(days=20), time(10)))
    done = submit(cost="3000", at=at)
    step_approve(actor=org.hank, step=active(done), at=at + timedelta(hours=1))
    step_claim(actor=org.ivan, step=active(done), at=at + timedelta(hours=2))
    step_complete(actor=org.ivan, step=active(done), actual_cost=Decimal("3100"),
                  at=at + timedelta(hours=3))
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="10000")
    flight = submit(cost="1500.15")
    step_approve(actor=org.hank, step=active(flight))
    client.force_login(org.olivia)
    assert _marketing_line(client)[7::4] == ["8499.85", "8449.85"]


def test_verify_names_a_difference_and_repair_rewrites_the_figures_from_the_ledger(
        client, org, submit):
    budget_set(actor=org.fiona, department=org.dept["MKT"], quarter=current_quarter(),
               amount="5000")
    request = submit(cost="1200")
    step_approve(actor=org.hank, step=active(request))
    out = io.StringIO()
    call_command("verify_budget_figures", stdout=out)
    assert out.getvalue().startswith("OK:")

    # Something wrote around the services: the stored quarter no longer sums the ledger.
    BudgetFigures.objects.filter(department=org.dept["MKT"]).update(
        committed=F("committed") + 1)
    CommitmentItemFigures.objects.all().delete()
    client.force_login(org.olivia)
    assert _marketing_line(client)[4] == "1201.00"
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 stored budget figure"):
        call_command("verify_budget_figures", stderr=err)
    assert "stored (Decimal('5000.00'), Decimal('1201.00')" in err.getvalue()

    call_command("verify_budget_figures", "--repair", stdout=out, stderr=io.StringIO())
    assert "Repaired: 2 figure(s) differed" in out.getvalue()
    assert budget_figures_verify() == []
    assert _marketing_line(client)[3:8] == ["5000.00", "1200.00", "0.00", "0.00", "3800.00"]
