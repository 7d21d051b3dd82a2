"""Every list page runs a fixed number of queries, however many rows it shows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.services import step_approve

# Measured on PostgreSQL and SQLite alike: the session with its person (one statement), the
# person's role ids (one; the visibility rules and the nav's role check use them), the nav's
# counts, then the page's own COUNT (pagination) and one query for its rows (the inbox and the work
# queue: one for the page's ids through the visibility rule, one for those rows).
# Each page also pays for its navigation: the counts of open requests, approvals and work
# waiting and unread notifications (one statement together), and whether the person sees
# change plans (whether they see accountability comes with the role check).
# The request page also reads its conversation panel (comments, files, open question) and,
# while an approval waits, whether its head is away (an active delegation); whether the
# viewer reads internal notes, and whether the request has any comment or file at all (the
# panel reads neither when it has none), come with the request's own row.
# The inbox counts what waits and what is on hold (its heading; the page count reuses it) and
# lists the departments and services its filters offer, and reads the budget lines of the
# cost centres its rows charge (one statement for the page).
LIMITS = {"catalog": 4, "my_requests": 6, "my_requests_all": 6, "inbox": 9, "work": 6,
          "detail": 8}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _fill(org, submit, n: int, *, to_work: bool = False) -> None:
    for i in range(n):
        request = submit(actor=org.alice if i % 2 else org.bob, cost="100", title=f"Item {i}")
        if to_work:
            step_approve(actor=org.hank, step=request.steps.get(state="active"))


@pytest.mark.parametrize(("page", "who", "url", "to_work"), [
    ("catalog", "alice", "/portal/?q=a", False),
    ("my_requests", "alice", "/portal/requests/?state=open", False),
    ("my_requests_all", "hank", "/portal/requests/?scope=all", False),
    ("inbox", "hank", "/approvals/", False),
    ("work", "ivan", "/work/", True),
])
def test_list_pages_do_not_grow_with_rows(page, who, url, to_work, org, submit, as_user,
                                          django_assert_max_num_queries):
    client = as_user(who)
    _fill(org, submit, 5, to_work=to_work)
    few = _queries(client, url)
    _fill(org, submit, 25, to_work=to_work)
    with django_assert_max_num_queries(LIMITS[page]):
        response = client.get(url)
    assert response.status_code == 200
    many = _queries(client, url)
    assert many == few, f"{page}: {few} queries with 5 rows, {many} with 30"


def test_request_page_is_bounded(org, submit, as_user, django_assert_max_num_queries):
    request = submit(cost="6000")
    step_approve(actor=org.hank, step=request.steps.get(state="active"), comment="Fine")
    fiona = as_user("fiona")
    with django_assert_max_num_queries(LIMITS["detail"]):
        response = fiona.get(f"/portal/requests/{request.reference}/")
    assert response.status_code == 200
