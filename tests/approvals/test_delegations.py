"""Delegations: who may delegate, to whom, from when; the form a head fills in.

Found on main: the form filled ``30/11/2026`` into an ``<input type=date>`` (the browser shows
it empty, then "This field is required"), delegations could start in the past, the form listed
every user of the organisation with their department, and everyone was offered delegation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from approvals.forms import DelegationForm
from approvals.models import Delegation
from approvals.selectors import delegate_candidates
from approvals.services import delegation_create
from governance.errors import NotAllowed, ValidationFailed
from governance.models import AuditEvent


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_form_renders_dates_in_iso_for_the_date_input(org):
    day = timezone.localdate() + timedelta(days=3)
    html = DelegationForm(user=org.hank, initial={"starts_on": day, "ends_on": day}).as_p()
    assert f'type="date" name="starts_on" value="{day.isoformat()}"' in html
    assert f'name="ends_on" value="{day.isoformat()}"' in html
    assert f'min="{timezone.localdate().isoformat()}"' in html


def test_the_page_keeps_the_dates_it_was_sent_when_it_shows_an_error(org):
    day = timezone.localdate() + timedelta(days=2)
    response = signed_in(org.hank).post("/approvals/delegations/", {
        "delegate": "bob", "starts_on": day.isoformat(), "ends_on": (day - timedelta(days=1))})
    assert response.status_code == 400
    assert f'value="{day.isoformat()}"' in response.content.decode()


def test_a_delegation_cannot_start_in_the_past(org):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as refused:
        delegation_create(actor=org.hank, delegate=org.bob, starts_on=today - timedelta(days=1),
                          ends_on=today + timedelta(days=5))
    assert refused.value.code == "dates_past"
    assert refused.value.field_errors == {"starts_on": ["Must be today or later."]}
    assert not Delegation.objects.exists()


def test_the_api_refuses_a_start_in_the_past_with_its_code(org):
    today = timezone.localdate()
    response = signed_in(org.hank).post("/api/v1/delegations/", {
        "delegate": "bob", "starts_on": str(today - timedelta(days=3)),
        "ends_on": str(today + timedelta(days=3))}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "dates_past"


def test_starting_today_is_fine(org):
    today = timezone.localdate()
    delegation = delegation_create(actor=org.hank, delegate=org.bob, starts_on=today,
                                   ends_on=today)
    assert delegation.is_active


@pytest.mark.parametrize(("who", "may"), [("hank", True), ("fiona", True), ("felix", True),
                                          ("alice", False), ("ivan", False), ("olivia", False)])
def test_only_people_who_approve_something_may_delegate(org, who, may):
    actor = getattr(org, who)
    candidate = delegate_candidates(actor).first()
    today = timezone.localdate()
    if may:
        assert delegation_create(actor=actor, delegate=candidate, starts_on=today, ends_on=today)
    else:
        with pytest.raises(NotAllowed) as refused:
            delegation_create(actor=actor, delegate=org.bob if who != "bob" else org.alice,
                              starts_on=today, ends_on=today)
        assert refused.value.code == "not_decider"


def test_the_people_one_may_delegate_to_are_colleagues_and_the_head_above(org):
    names = set(delegate_candidates(org.hank).values_list("username", flat=True))
    # Marketing's people, not hank himself, not the rest of the organisation.
    assert {"alice", "bob", "mia"} <= names
    assert "hank" not in names and "ivan" not in names and "carol" not in names
    assert names < {u.username for u in type(org.hank).objects.all()}


def test_delegating_to_someone_outside_is_refused(org):
    today = timezone.localdate()
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        delegation_create(actor=org.hank, delegate=org.ivan, starts_on=today, ends_on=today)
    assert refused.value.code == "delegate_not_allowed"
    assert "delegate" in refused.value.field_errors
    assert AuditEvent.objects.count() == events


def test_the_page_lists_nobody_until_searched_and_then_only_candidates(org):
    hank = signed_in(org.hank)
    page = hank.get("/approvals/delegations/").content.decode()
    assert 'name="delegate"' not in page  # no list of everyone
    assert "Ivan Ivanov" not in page and "Carol Clark" not in page
    found = hank.get("/approvals/delegations/", {"who": "bo"}).content.decode()
    assert 'name="delegate" value="bob"' in found and "Bob Brown" in found
    # Someone hank may not delegate to is not found, whatever he types.
    refused = hank.get("/approvals/delegations/", {"who": "ivan"}).content.decode()
    assert 'name="delegate" value="ivan"' not in refused
    assert "No one you may delegate to matches “ivan”" in refused


def test_the_search_answers_htmx_with_the_results_only(org):
    response = signed_in(org.hank).get("/approvals/delegations/", {"who": "ali"},
                                       headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<fieldset id="delegate-results"')
    assert 'name="delegate" value="alice"' in html and "<html" not in html


def test_creating_one_from_the_page(org):
    today = timezone.localdate()
    response = signed_in(org.hank).post("/approvals/delegations/", {
        "delegate": "bob", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=7)).isoformat(), "reason": "Holiday"}, follow=True)
    assert "Bob Brown decides for you" in response.content.decode()
    assert Delegation.objects.get().delegate == org.bob


@pytest.mark.parametrize(("who", "offered"), [("hank", True), ("fiona", True), ("felix", True),
                                              ("alice", False), ("ivan", False),
                                              ("olivia", False)])
def test_only_people_who_approve_something_are_offered_delegation(org, who, offered):
    client = signed_in(getattr(org, who))
    page = client.get("/portal/").content.decode()
    assert ('href="/approvals/delegations/"' in page) is offered
    delegations = client.get("/approvals/delegations/").content.decode()
    assert ("Delegate your approvals" in delegations) is offered
    if not offered:
        today = timezone.localdate().isoformat()
        response = client.post("/approvals/delegations/", {
            "delegate": "bob", "starts_on": today, "ends_on": today})
        assert response.status_code == 403
        assert not Delegation.objects.exists()


def test_a_delegate_may_approve_only_on_the_days_the_delegation_runs(org):
    from unittest import mock

    from approvals.selectors import capabilities
    from governance.models import User

    today = timezone.localdate()
    delegate = next(p for p in delegate_candidates(org.hank)
                    if not capabilities(User.objects.get(pk=p.pk)).may_approve)
    delegation_create(actor=org.hank, delegate=delegate, starts_on=today + timedelta(days=1),
                      ends_on=today + timedelta(days=2))

    def on(day) -> bool:
        with mock.patch("django.utils.timezone.localdate", return_value=day):
            return capabilities(User.objects.get(pk=delegate.pk)).delegate

    assert [on(today + timedelta(days=n)) for n in range(4)] == [False, True, True, False]
