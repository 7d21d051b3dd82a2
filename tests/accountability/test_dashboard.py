"""The accountability board, department page and handoff view: hand-computed numbers,
who sees what, and query counts that do not grow with the data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.board import (
    department_lines,
    handoff_pairs,
    waiting_and_working,
    weekly_trend,
)
from accountability.figures import refresh_figures, refresh_open_work
from approvals.models import Step
from approvals.services import step_approve
from governance.models import Department
from requests_app.models import ServiceRequest
from tests.factories import active_step, make_risk

ACCESS = {"details": "CRM access for the campaign.", "system": "CRM"}


def lines_by_code(now):
    return {ln.department.code: ln for ln in department_lines(list(Department.objects.all()),
                                                               now=now)}


def test_the_board_shows_each_departments_hand_computed_figures(org, board_history):
    lines = lines_by_code(board_history)

    it, fin, mkt = lines["IT"], lines["FIN"], lines["MKT"]
    assert (it.open_steps, it.overdue_steps, it.risks_by_level) == (2, 2, {1: 0, 2: 1, 3: 0})
    assert (it.exposure, it.accrued_this_quarter) == (Decimal("300.00"), Decimal("1119.00"))
    assert (fin.open_steps, fin.overdue_steps, fin.exposure) == (1, 1, Decimal("50.00"))
    assert fin.risks_by_level == {1: 1, 2: 0, 3: 0}
    assert (mkt.steps_completed, mkt.steps_breached, mkt.breach_share) == (4, 1, Decimal("25.0"))
    assert (mkt.median_hours, mkt.p90_hours) == (Decimal("3.0"), Decimal("102.0"))
    assert (it.steps_completed, it.median_hours, it.p90_hours) == (1, Decimal("3.0"), Decimal("3.0"))
    assert (it.handoffs_received, fin.handoffs_received, mkt.handoffs_received) == (3, 1, 0)


def test_accrued_this_quarter_counts_resolved_risks_but_exposure_only_open_ones(org, board_history):
    it = lines_by_code(board_history)["IT"]

    # 120 from the open risk + 999 from the resolved one: both passed this quarter.
    assert it.accrued_this_quarter == Decimal("1119.00")
    assert it.exposure == Decimal("300.00")


def test_bottlenecks_are_ranked_by_exposure_then_overdue_steps(org, board_history):
    ranked = [ln.department.code for ln in department_lines(list(Department.objects.all()),
                                                            now=board_history)]

    assert ranked[:2] == ["IT", "FIN"]


def test_handoffs_pair_the_giving_and_receiving_departments(org, board_history):
    pairs = {(p.from_department.code, p.to_department.code): p
             for p in handoff_pairs(set(Department.objects.values_list("pk", flat=True)),
                                    now=board_history)}

    assert set(pairs) == {("MKT", "IT"), ("MKT", "FIN")}
    assert pairs[("MKT", "IT")].count == 3
    # Receiving IT steps dwelt 3 h (done), 212 h and 216 h (still open): median 212.
    assert pairs[("MKT", "IT")].median_dwell_hours == Decimal("212.0")


def test_time_is_split_into_waiting_and_working_per_catalog_item(org, board_history):
    rows = waiting_and_working(org.dept["IT"], now=board_history)

    assert [(r["request__item__name"], r["steps"]) for r in rows] == [("New laptop", 1)]
    assert round(rows[0]["waiting_hours"], 2) == 1.0
    assert round(rows[0]["working_hours"], 2) == 2.0


def test_the_weekly_trend_puts_completed_steps_and_detected_delays_in_their_week(
        org, board_history):
    trend = weekly_trend(org.dept["IT"], now=board_history)

    assert len(trend) == 12
    assert sum(w.steps_completed for w in trend) == 1
    assert sum(w.risks_detected for w in trend) == 2
    assert sum(w.exposure_detected for w in trend) == Decimal("1299.00")


@pytest.mark.parametrize("who, departments", [
    ("olivia", {"OPS", "FIN", "IT", "HR", "FAC", "PRO", "LEG", "MKT"}),
    ("oscar", {"OPS", "FIN", "IT", "HR", "FAC", "PRO", "LEG", "MKT"}),
    ("hank", {"MKT"}),
    ("irene", {"IT"}),
])
def test_leaders_see_their_departments_on_the_board(client, org, who, departments):
    client.force_login(getattr(org, who))

    page = client.get("/dashboard/", secure=True)

    assert page.status_code == 200
    assert {ln.department.code for ln in page.context["lines"]} == departments
    assert 'href="/dashboard/"' in page.content.decode()


@pytest.mark.parametrize("who", ["alice", "ivan", "felix"])
def test_employees_and_agents_get_no_board_and_no_link(client, org, who):
    client.force_login(getattr(org, who))

    assert client.get("/dashboard/", secure=True).status_code == 403
    assert client.get("/dashboard/handoffs/", secure=True).status_code == 403
    home = client.get("/portal/", secure=True).content.decode()
    assert 'href="/dashboard/"' not in home
    assert 'href="/reports/"' not in home
    assert 'href="/kpis/"' in home


def test_a_head_cannot_open_another_departments_page(client, org):
    client.force_login(org.hank)

    assert client.get("/dashboard/departments/MKT/", secure=True).status_code == 200
    assert client.get("/dashboard/departments/IT/", secure=True).status_code == 404


def test_the_department_page_names_the_accountable_head_of_each_old_delay(
        client, org, board_history):
    client.force_login(org.olivia)

    page = client.get("/dashboard/departments/IT/", secure=True)

    html = page.content.decode()
    assert page.status_code == 200
    assert [r.head for r in page.context["delays"]] == [org.irene]
    reference = ServiceRequest.objects.get(pk=page.context["delays"][0].request_id).reference
    assert reference in html and "Irene Ito" in html
    assert 'id="trend-data"' in html and "<canvas" in html


def test_the_oldest_delays_list_only_requests_the_reader_may_open(client, org, board_history):
    # Oscar heads Operations, the parent of IT: he sees IT's figures, but IT's requests are
    # not his to open (he neither asked, nor heads the requester's or the step's department).
    client.force_login(org.oscar)

    page = client.get("/dashboard/departments/IT/", secure=True)

    assert page.status_code == 200
    assert page.context["line"].exposure == Decimal("300.00")
    assert page.context["delays"] == []


# The department page: +1 for the quarter's cost of delay per head charged (one grouped query).
# The board's budget lines read the current quarter's ledger live (docs/budgets.md): 5 more.
# The board: +1 for the decisions by channel (one grouped query).
# The handoff page: its heatmap reads every pair in one more query (the list is paginated).
PINS = {"/dashboard/": (11, 42), "/dashboard/departments/IT/": (13, 53),
        "/dashboard/handoffs/": (8, 18)}
# The board's charts and rows kept from an earlier view (nothing changed since).
KEPT_BOARD_QUERIES = 7


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "recomputed"])
@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/departments/IT/",
                                 "/dashboard/handoffs/"])
def test_dashboard_pages_answer_in_a_bounded_number_of_queries(
        client, org, submit, url, stored, settings, django_assert_max_num_queries):
    """Reading the stored figures (the refresh job ran) is a fixed handful of queries; a page
    that has to recompute them first is bounded too, whatever the number of requests."""
    if stored:
        settings.SRM_FIGURES_MAX_AGE = settings.SRM_FIGURES_OPEN_MAX_AGE = 3600
    client.force_login(org.olivia)
    first = submit(item="access", cost="0", answers=ACCESS)
    step_approve(actor=org.hank, step=active_step(first))
    make_risk(active_step(first), detected_at=timezone.now(), exposure="10")
    if stored:
        refresh_figures()
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, secure=True).status_code == 200
    for _ in range(6):
        request = submit(item="access", cost="0", answers=ACCESS)
        step_approve(actor=org.hank, step=active_step(request))
        make_risk(active_step(request), detected_at=timezone.now(), exposure="10")
    if stored:
        refresh_figures()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url, secure=True).status_code == 200
    # Stored: session, user, scope, the stamps (one query), the stored rows, the navigation;
    # the department page adds its live counts, trend, split and oldest delays.
    # Recomputed: the families' grouped queries, their writes and the stamps' locks on top.
    assert len(small.captured_queries) <= PINS[url][0 if stored else 1]


def test_the_boards_rows_follow_every_change_of_figures_names_and_heads(client, org,
                                                                        board_history):
    # Given olivia watched the board (its rows rendered and kept for the next view)
    refresh_figures()
    client.force_login(org.olivia)
    first = client.get("/dashboard/", secure=True).content.decode()
    assert "Information Technology" not in first

    # When IT is renamed, gets a new head and a new open delay is counted
    Department.objects.filter(code="IT").update(name="Information Technology", head=org.fiona)
    r5_it_step = (Step.objects.filter(state="active", accountable_department__code="IT")
                  .order_by("request__submitted_at").first())
    make_risk(r5_it_step, detected_at=timezone.now(), level=1, exposure="4321.00")
    refresh_figures()
    again = client.get("/dashboard/", secure=True)

    # Then the next view shows all three at once, not the rows it showed before
    row = next(r for r in again.content.decode().split("<tr>")
               if 'data-label="Department"' in r and "Information Technology" in r)
    assert str(org.fiona) in row
    it = next(ln for ln in again.context["lines"] if ln.department.code == "IT")
    assert it.exposure > Decimal("300.00")
    assert f"{it.exposure:,.2f}" in row


def _bottleneck_rows(page) -> str:
    html = page.content.decode()
    start = html.index('id="bottlenecks"')
    return html[start:html.index("</table>", start)]


def test_the_kept_board_follows_figures_names_heads_language_and_scope(
        client, org, board_history, settings, django_assert_num_queries):
    # Given the stored figures are fresh for an hour and olivia watched the board
    settings.SRM_FIGURES_MAX_AGE = settings.SRM_FIGURES_OPEN_MAX_AGE = 3600
    refresh_figures()
    client.force_login(org.olivia)
    first = client.get("/dashboard/", secure=True)
    assert "lines" in first.context

    # When she looks again with nothing changed, the rows are the ones kept, not rendered
    # again: session, role row, navigation, the departments as shown, the stamps, the
    # decisions by channel and the budget lines
    with django_assert_num_queries(KEPT_BOARD_QUERIES):
        kept = client.get("/dashboard/", secure=True)
    assert "lines" not in kept.context
    assert _bottleneck_rows(kept) == _bottleneck_rows(first)

    # Then each change of what the rows show shows on the next view:
    # a figure (a new open delay, recounted by the open-work job),
    r5_it_step = (Step.objects.filter(state="active", accountable_department__code="IT")
                  .order_by("request__submitted_at").first())
    make_risk(r5_it_step, detected_at=timezone.now(), level=1, exposure="4321.00")
    refresh_open_work()
    rows = _bottleneck_rows(client.get("/dashboard/", secure=True))
    assert "4,621.00" in rows  # 300 + 4,321

    # a department's name, and its head (a change that sends no signal),
    Department.objects.filter(code="IT").update(name="Information Technology", head=org.fiona)
    rows = _bottleneck_rows(client.get("/dashboard/", secure=True))
    it_row = next(r for r in rows.split("<tr>") if "Information Technology" in r)
    assert str(org.fiona) in it_row

    # the head's own name,
    type(org.fiona).objects.filter(pk=org.fiona.pk).update(last_name="Fernández-Wolf")
    rows = _bottleneck_rows(client.get("/dashboard/", secure=True))
    assert "Fernández-Wolf" in rows

    # the language (numbers and labels in German),
    type(org.olivia).objects.filter(pk=org.olivia.pk).update(language="de")
    rows = _bottleneck_rows(client.get("/dashboard/", secure=True))
    assert 'data-label="Abteilung"' in rows and "4.621,00" in rows

    # and the person: a head sees only the departments they lead, never the rows kept for
    # a reader who sees every one.
    client.force_login(org.hank)
    page = client.get("/dashboard/", secure=True)
    assert {ln.department.code for ln in page.context["lines"]} == {"MKT"}
    assert "Information Technology" not in _bottleneck_rows(page)
