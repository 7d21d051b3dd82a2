"""What every page shares: the landing page, the navigation, error pages, CSRF, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import set_script_prefix

from approvals.services import step_approve
from srm.templatetags.srm import due_hint


def test_each_person_lands_where_their_work_is(org, submit, as_user):
    assert as_user("hank").get("/")["Location"] == "/portal/"  # nothing waiting yet
    request = submit(cost="100")
    assert as_user("alice").get("/")["Location"] == "/portal/"
    assert as_user("hank").get("/")["Location"] == "/approvals/"
    assert as_user("ivan").get("/")["Location"] == "/portal/"
    step_approve(actor=org.hank, step=request.steps.get(state="active"))
    assert as_user("ivan").get("/")["Location"] == "/work/"


def _nav(client) -> str:
    page = client.get("/portal/").content.decode()
    return page[page.index('id="nav-links"'):page.index("</ul>", page.index('id="nav-links"'))]


def test_the_navigation_shows_only_what_the_person_may_use_with_counts(org, submit, as_user):
    submit(cost="100")
    submit(cost="100")
    alice = _nav(as_user("alice"))
    assert "My requests" in alice and 'aria-label="2 open"' in alice
    assert "Approvals" not in alice and "Work" not in alice
    hank = _nav(as_user("hank"))
    assert 'aria-label="2 waiting for your decision"' in hank and "Work" not in hank
    ivan = _nav(as_user("ivan"))
    assert "Work" in ivan and "Approvals" not in ivan
    # felix approves for finance: he sees the inbox even with nothing in it
    assert "Approvals" in _nav(as_user("felix"))


def test_only_the_most_specific_nav_entry_is_current(as_user):
    page = as_user("alice").get("/portal/requests/").content.decode()
    assert page.count('aria-current="page"') == 1
    assert 'id="nav-portal-my_requests" aria-current="page"' in page


def test_the_navigation_links_follow_the_script_prefix(as_user):
    client = as_user("alice")
    set_script_prefix("/srm/")  # what the WSGI handler sets from SCRIPT_NAME
    try:
        mounted = client.get("/portal/").content.decode()
    finally:
        set_script_prefix("/")
    assert 'href="/srm/portal/requests/" id="nav-portal-my_requests"' in mounted
    plain = client.get("/portal/").content.decode()
    assert 'href="/portal/requests/" id="nav-portal-my_requests"' in plain


def test_an_unknown_page_is_the_friendly_404(as_user):
    response = as_user("alice").get("/portal/nowhere/at/all/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


def test_the_500_page_renders_without_context_or_database():
    html = get_template("500.html").render({})
    assert "Something went wrong on our side" in html and "{%" not in html


def test_a_post_without_the_csrf_token_is_refused(org, submit):
    request = submit(cost="100")
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.hank)
    response = client.post(f"/approvals/steps/{request.steps.get(state='active').pk}/approve/")
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.steps.get(order=1).state == "active"


@pytest.mark.parametrize("url", ["/portal/new/laptop/", "/approvals/", "/approvals/delegations/",
                                 "/work/", "REQUEST"])
def test_every_post_form_carries_the_csrf_token(url, org, submit, as_user):
    request = submit(cost="100")
    if url == "/work/":
        step_approve(actor=org.hank, step=request.steps.get(state="active"))
    client = as_user("ivan" if url == "/work/" else "hank")
    if url == "REQUEST":
        client, url = as_user("alice"), f"/portal/requests/{request.reference}/"
    page = client.get(url).content.decode()
    forms = page.split('<form method="post"')[1:]
    assert forms, url
    assert all("csrfmiddlewaretoken" in form.split("</form>")[0] for form in forms), url


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("due", "done", "words", "tone"), [
    (NOW + timedelta(hours=3, minutes=10), None, "due in 3 h", "soon"),
    (NOW + timedelta(days=3), None, "due in 3 days", "ok"),
    (NOW + timedelta(minutes=20), None, "due in 20 min", "soon"),
    (NOW - timedelta(days=2, hours=5), None, "2 days overdue", "late"),
    (NOW - timedelta(hours=5), None, "5 h overdue", "late"),
    (NOW, NOW - timedelta(hours=1), "on time", "ok"),
    (NOW, NOW + timedelta(hours=30), "30 h late", "late"),
])
def test_relative_words_for_due_times(due, done, words, tone):
    assert due_hint(due, done, now=NOW) == (words, tone)
