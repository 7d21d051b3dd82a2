"""A person's role ids are read once per HTTP request for the visibility rules, and a change
to them is seen at once by the rest of the same request (the next page reads them anew:
``tests/web/test_approvals.py test_hank_delegates_while_away_and_ends_it``)."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals.models import Step
from approvals.selectors import capabilities
from approvals.services import step_approve
from approvals.services.delegations import delegation_create
from governance.choices import MembershipRole
from governance.models import Membership
from kit.rules import Serving
from requests_app.models import ServiceRequest


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sees(user, request) -> bool:
    return ServiceRequest.objects.restrict(user).filter(pk=request.pk).exists()


def test_a_delegation_given_while_a_request_is_served_counts_for_the_rest_of_it(org, submit):
    # Alice's laptop waits for Hank, her head; Bob, her colleague, sees none of it.
    request = submit(actor=org.alice)
    today = timezone.localdate()
    with Serving((), "a page"):
        assert not _sees(org.bob, request)
        assert not Step.objects.restrict(org.bob, "decide").exists()
        assert not capabilities(org.bob).may_approve
        delegation_create(actor=org.hank, delegate=org.bob, starts_on=today, ends_on=today)
        # The same request asks again: Bob decides for Hank now.
        assert _sees(org.bob, request)
        assert list(Step.objects.restrict(org.bob, "decide")) == [request.steps.get(state="active")]
        assert capabilities(org.bob).may_approve


def test_a_membership_given_while_a_request_is_served_counts_for_the_rest_of_it(org, submit):
    request = submit(actor=org.alice)
    step_approve(actor=org.hank, step=request.steps.get(state="active"))
    with Serving((), "a page"):
        assert not Step.objects.restrict(org.bob, "work").exists()
        Membership.objects.create(user=org.bob, department=request.item.fulfilling_department,
                                  role=MembershipRole.AGENT)
        assert Step.objects.restrict(org.bob, "work").count() == 1
        assert _sees(org.bob, request)


def test_outside_a_request_every_rule_reads_the_roles_as_they_are(org, submit):
    request = submit(actor=org.alice)
    step_approve(actor=org.hank, step=request.steps.get(state="active"))
    assert not Step.objects.restrict(org.bob, "work").exists()
    membership = Membership.objects.create(user=org.bob, role=MembershipRole.AGENT,
                                           department=request.item.fulfilling_department)
    assert Step.objects.restrict(org.bob, "work").count() == 1
    Membership.objects.filter(pk=membership.pk).update(role=MembershipRole.MEMBER)
    assert not Step.objects.restrict(org.bob, "work").exists()


def test_a_rule_asked_twice_in_a_request_gives_each_caller_its_own_rows(org, submit):
    first, second = submit(actor=org.alice), submit(actor=org.bob)
    with Serving((), "a page"):
        narrowed = ServiceRequest.objects.restrict(org.hank).filter(pk=first.pk)
        every = ServiceRequest.objects.restrict(org.hank)
        assert list(narrowed) == [first]
        assert set(every) == {first, second}
        assert list(ServiceRequest.objects.restrict(org.hank).filter(pk=second.pk)) == [second]


def test_a_page_reads_the_roles_once_and_its_rules_name_the_ids(org, submit):
    submit(actor=org.alice)
    client = _client(org.hank)
    client.get("/approvals/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/approvals/").status_code == 200
    membership = [q["sql"] for q in captured if "governance_membership" in q["sql"]]
    assert len(membership) == 1, membership
    assert "UNION ALL SELECT role, department_id" in membership[0]
