"""A head with many approvals waiting: the compact table, search, filters, sort, bulk
decisions with a result per item, and items on hold kept apart and out of the badge."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.models import Notification, NotificationKind
from approvals.models import Step
from approvals.services import step_approve, step_hold
from demo.organisation import PEOPLE
from governance.choices import AuditVerb
from governance.models import AuditEvent


def _fill(org, submit, n: int, *, start: int = 0) -> list:
    """``n`` requests waiting for hank (alice's and bob's, alternately, costs 100, 200, …)."""
    return [submit(actor=org.alice if i % 2 else org.bob, cost=str(100 * (i + 1)),
                   title=f"Item {i:03d}") for i in range(start, start + n)]


def _active(request) -> Step:
    return request.steps.get(state="active")


def _badge(page: str, key: str = "approvals-inbox") -> int:
    found = re.search(rf'id="nav-{key}"[^>]*>[^<]*<span class="badge[^"]*" aria-label="(\d+) ', page)
    return int(found.group(1)) if found else 0


def test_forty_items_are_one_compact_table_with_the_count_the_badge_shows(org, submit, as_user):
    _fill(org, submit, 40)
    page = as_user("hank").get("/approvals/").content.decode()

    assert 'id="inbox-table"' in page  # above ten items the table is the default
    assert page.count('class="inbox-row') == 40  # one page
    assert "40 waiting for your decision" in page
    assert _badge(page) == 40
    assert "Item 000" in page and "Item 039" in page


def test_the_compact_inbox_reads_as_many_queries_for_100_items_as_for_10(org, submit, as_user):
    hank = as_user("hank")
    _fill(org, submit, 10)
    with CaptureQueriesContext(connection) as ten:
        assert hank.get("/approvals/?view=table").status_code == 200
    _fill(org, submit, 90, start=10)
    with CaptureQueriesContext(connection) as hundred:
        page = hank.get("/approvals/?view=table").content.decode()
    assert page.count('class="inbox-row') == 50  # the first page of two
    assert "100 waiting for your decision" in page
    # 9: the session with its person, the role ids (the rules and the navigation's role
    # check), the cards' budget line as one query for the whole page (docs/budgets.md).
    assert len(hundred) == len(ten) == 9


def test_search_by_partial_reference_title_or_requester(org, submit, as_user):
    requests = _fill(org, submit, 12)
    hank = as_user("hank")
    # "000008" of SR-2026-000008: the number as typed with its zeros, however far the
    # reference sequence has run before this test.
    number = requests[7].reference.rsplit("-", 1)[1]

    by_reference = hank.get(f"/approvals/?q={requests[7].reference}").content.decode()
    assert "Item 007" in by_reference and "Item 006" not in by_reference
    assert "1 match." in by_reference
    assert "Item 007" in hank.get(f"/approvals/?q={number}").content.decode()

    by_title = hank.get("/approvals/?q=Item 011").content.decode()
    assert "Item 011" in by_title and "Item 010" not in by_title

    by_requester = hank.get("/approvals/?q=bob").content.decode()
    assert "6 matches." in by_requester and "Item 000" in by_requester
    assert "Item 001" not in by_requester  # alice's


def test_filter_by_cost_and_overdue_and_sort_by_cost(org, submit, as_user):
    _fill(org, submit, 12)
    hank = as_user("hank")

    costly = hank.get("/approvals/?min_cost=1000&sort=cost&view=table").content.decode()
    assert "3 matches." in costly  # 1000, 1100, 1200
    assert costly.index("Item 011") < costly.index("Item 010") < costly.index("Item 009")

    assert "Nothing matches." in hank.get("/approvals/?show=overdue&view=cards").content.decode()


def test_bulk_approve_decides_each_through_the_service_and_reports_each(org, submit, as_user):
    requests = _fill(org, submit, 40)
    own = submit(actor=org.hank, cost="100", title="Hank's own")  # visible, not his to decide
    raced = _active(requests[5])
    step_approve(actor=org.hank, step=raced)  # decided meanwhile
    ids = [_active(r).pk if r is not requests[5] else raced.pk for r in requests]
    ids.append(_active(own).pk)

    hank = as_user("hank")
    response = hank.post("/approvals/decide/", {"step": ids, "action": "approve",
                                                "comment": "Within the Q4 plan"})
    assert response.status_code == 302
    page = hank.get(response["Location"]).content.decode()

    assert "39 of 41 approved." in page
    results = page[page.index('id="bulk-results"'):]
    assert results.count('class="bulk-done"') == 39
    assert f"{requests[5].reference}</a></strong>\n      already decided" in results
    assert f"{own.reference}</a></strong>\n      not allowed" in results
    # Each decision is its own audit event with the one comment, and the requester hears.
    approved = AuditEvent.objects.filter(verb=AuditVerb.STEP_APPROVED,
                                         data__comment="Within the Q4 plan")
    assert approved.count() == 39
    assert Notification.objects.filter(kind=NotificationKind.APPROVED).count() == 40
    assert "Nothing is waiting for you." in page and _badge(page) == 0
    # The results are shown once.
    assert 'id="bulk-results"' not in hank.get("/approvals/").content.decode()


def test_bulk_reject_needs_a_reason_and_changes_nothing_without_one(org, submit, as_user):
    requests = _fill(org, submit, 3)
    hank = as_user("hank")
    ids = [_active(r).pk for r in requests]

    response = hank.post("/approvals/decide/", {"step": ids, "action": "reject", "comment": " "})
    assert response.status_code == 400
    assert "each requester reads the reason" in response.content.decode()
    assert Step.objects.filter(pk__in=ids, state="active").count() == 3

    hank.post("/approvals/decide/", {"step": ids, "action": "reject", "comment": "No budget."})
    assert Step.objects.filter(pk__in=ids, state="rejected", comment="No budget.").count() == 3


def test_a_held_item_is_marked_kept_apart_and_not_counted_as_waiting_for_me(org, submit, as_user):
    first, held = _fill(org, submit, 2)
    step_hold(actor=org.hank, step=_active(held), question="Which model exactly?")

    page = as_user("hank").get("/approvals/").content.decode()
    assert "1 waiting for your decision · 1 on hold, waiting for the requester's answer." in page
    assert _badge(page) == 1
    assert page.index(first.title) < page.index(held.title)  # held last
    card = page[page.index(f'id="step-{_active(held).pk}"'):]
    assert "On hold" in card[:1500] and "waiting for Alice Adams's answer" in card[:1500]


def test_the_requester_sees_it_waits_for_them_with_the_question_first(org, submit, as_user):
    (request,) = _fill(org, submit, 1, start=1)  # alice's
    step_hold(actor=org.hank, step=_active(request), question="Which model exactly?")
    alice = as_user("alice")

    listing = alice.get("/portal/requests/").content.decode()
    assert "Waiting for you" in listing and "Hank Hughes asked a question" in listing

    page = alice.get(request.get_absolute_url()).content.decode()
    header = page[page.index('class="request-head"'):page.index('id="open-question"')]
    assert "Waiting for you" in header and "now with" not in header
    # The question and its answer form come before everything else on the page.
    assert page.index('id="open-question"') < page.index('class="detail-grid"')
    assert page.count('id="open-question"') == 1
    assert "Hank Hughes asked you a question" in page


def test_after_an_in_place_rejection_the_heading_and_badge_agree(org, submit, as_user, htmx):
    requests = _fill(org, submit, 3)
    step = _active(requests[0])
    response = as_user("hank").post(f"/approvals/steps/{step.pk}/reject/",
                                    {"comment": "Not now.", "as": "table"}, **htmx)
    part = response.content.decode()
    assert part.lstrip().startswith(f'<tr id="step-{step.pk}"')
    assert '<p id="inbox-count" hx-swap-oob="true">2 waiting for your decision.' in part
    assert _badge(part) == 2


@pytest.mark.parametrize("username", [person[0] for person in PEOPLE])
def test_the_badge_equals_the_inbox_count_for_every_demo_person(org, submit, as_user, username):
    requests = _fill(org, submit, 4)
    step_hold(actor=org.hank, step=_active(requests[0]), question="Why?")
    big = submit(cost="9000", title="Big one")
    step_approve(actor=org.hank, step=_active(big))
    person = as_user(username)
    page = person.get("/approvals/").content.decode()
    shown = re.search(r'id="inbox-count"[^>]*>(\d+) waiting', page)
    assert (int(shown.group(1)) if shown else 0) == _badge(page)
    # Elsewhere the navigation counts the badge itself: the same number.
    assert _badge(person.get("/portal/requests/").content.decode()) == _badge(page)
