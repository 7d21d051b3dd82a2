"""The request page and the API's step actions find their row through the view rule compiled
once per shape of person (``approvals.roles.PreparedForPerson``): for every kind of person
and every request or step, what it finds is exactly what the plain queryset finds, and after
a change of roles or flags it finds what the plain queryset finds then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals.api.views import _step_for_person, _visible_step
from approvals.models import Delegation, Step
from governance.choices import MembershipRole
from governance.models import Department, Membership
from kit.rules import Serving, rules_asked
from requests_app.models import ServiceRequest
from requests_app.views import _request_for_person, _request_with_access

PEOPLE = ["alice", "bob", "carol", "hank", "dave", "mia", "ivan", "felix", "irene", "olivia",
          "admin", "isaac", "erin", "paula"]
RELATED = ("item", "requester", "requester_department")


@pytest.fixture
def world(org, submit):
    """Requests of four departments, and a person of every kind: requesters (alice, carol,
    paula), heads (hank, irene, paula), a deputy (dave, also assigned a step), a delegate
    (mia, for hank), agents (ivan; irene, also head of IT), an approver (felix), an ops leader
    (olivia), a superuser (admin), someone inactive (isaac), people who see only their own
    (bob, erin)."""
    today = timezone.localdate()
    requests = [
        submit(actor=org.alice, cost="6000"),
        submit(actor=org.carol, cost="100"),
        submit(actor=org.bob, cost="100"),
        submit(actor=org.paula, cost="500"),
    ]
    Department.objects.filter(code="MKT").update(deputy=org.dave)
    Delegation.objects.create(delegator=org.hank, delegate=org.mia, starts_on=today,
                              ends_on=today + timedelta(days=7))
    Membership.objects.filter(user=org.irene).update(role=MembershipRole.AGENT)
    type(org.isaac).objects.filter(pk=org.isaac.pk).update(is_active=False)
    Step.objects.filter(request=requests[3], order=2).update(assignee=org.dave)
    users = {u.username: u for u in type(org.alice).objects.all()}
    return users, requests


def _snapshot(obj, related=()):
    """Everything an instance carries: its fields and annotations, and its related rows."""
    if obj is None:
        return None
    values = {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    return (type(obj), values, {name: _snapshot(getattr(obj, name)) for name in related})


def _found(find):
    try:
        return find()
    except (ServiceRequest.DoesNotExist, Step.DoesNotExist):
        return None


def _request_both_ways(user, reference):
    with Serving((), "the plain queryset"):
        plain = _found(lambda: _request_with_access(user, reference).get())
    with Serving((), "the prepared statement"):
        prepared = _found(lambda: _request_for_person.get(user, reference))
        asked = rules_asked()
    assert ("requests_app.ServiceRequest", "view") in asked
    return _snapshot(plain, RELATED), _snapshot(prepared, RELATED)


def _step_both_ways(user, pk):
    with Serving((), "the plain queryset"):
        plain = _found(lambda: _visible_step(user, pk).get())
    with Serving((), "the prepared statement"):
        prepared = _found(lambda: _step_for_person.get(user, pk))
        asked = rules_asked()
    assert ("approvals.Step", "view") in asked
    return _snapshot(plain), _snapshot(prepared)


def _every_answer(users, requests):
    """(person, row, found) for every person and request or step, both ways compared."""
    answers = []
    steps = Step.objects.filter(request__in=requests).values_list("pk", flat=True)
    for name in PEOPLE:
        user = users[name]
        for request in requests:
            plain, prepared = _request_both_ways(user, request.reference)
            assert prepared == plain, (name, request.reference)
            answers.append((name, request.reference, plain is not None))
        for pk in steps:
            plain, prepared = _step_both_ways(user, pk)
            assert prepared == plain, (name, pk)
            answers.append((name, pk, plain is not None))
    return answers


def test_every_kind_of_person_finds_what_the_plain_queryset_finds(world):
    users, requests = world
    # Twice: the first round compiles each shape, the second runs the compiled statements.
    first = _every_answer(users, requests)
    assert _every_answer(users, requests) == first
    found = {(name, row) for name, row, seen in first if seen}
    # Not a matrix of misses: the rule lets people in and keeps people out.
    reference = requests[0].reference
    assert {(n, reference) in found for n in ["alice", "hank", "dave", "mia", "olivia",
                                                "admin"]} == {True}
    assert {(n, reference) in found for n in ["bob", "carol", "erin", "paula"]} == {False}
    assert (("dave", requests[3].reference) in found)  # assigned a step of it
    assert ("nobody", "SR-0000-000000") not in found
    for name in PEOPLE:
        plain, prepared = _request_both_ways(users[name], "SR-0000-000000")
        assert plain is None and prepared is None


def test_the_request_page_finds_its_row_with_the_same_annotations(world):
    users, requests = world
    with Serving((), "the prepared statement"):
        row = _request_for_person.get(users["hank"], requests[0].reference)
        own = _request_for_person.get(users["alice"], requests[0].reference)
    assert row.srm_access_of == users["hank"].pk and row.srm_reads_internal
    assert own.srm_access_of == users["alice"].pk and not own.srm_reads_internal
    assert row.requester == users["alice"] and row.item.code == "laptop"


def test_a_change_of_roles_is_seen_at_once_whether_or_not_the_shape_changes(world, org):
    users, requests = world
    erin = users["erin"]
    marketing, human_resources = requests[0], requests[1]

    def sees(request):
        plain, prepared = _request_both_ways(erin, request.reference)
        assert prepared == plain
        return prepared is not None

    assert not sees(marketing) and not sees(human_resources)
    shapes = set(_request_for_person._prepared._statements)
    # Deputy of three departments, Marketing among them: a shape of its own (nobody else
    # leads three), its own statement.
    Department.objects.filter(code__in=["MKT", "FAC", "PRO"]).update(deputy=erin)
    assert sees(marketing) and not sees(human_resources)
    shapes_now = set(_request_for_person._prepared._statements)
    assert shapes_now > shapes
    # HR instead of Marketing: the same shape, the other department's id in its place.
    Department.objects.filter(code="MKT").update(deputy=None)
    Department.objects.filter(code="HR").update(deputy=erin)
    assert not sees(marketing) and sees(human_resources)
    assert set(_request_for_person._prepared._statements) == shapes_now
    Department.objects.filter(deputy=erin).update(deputy=None)
    # An ops leader, then a superuser, then neither: each flag is a shape of its own.
    erin.is_ops_leader = True
    assert sees(marketing) and sees(human_resources)
    erin.is_ops_leader, erin.is_superuser = False, True
    assert sees(marketing) and sees(human_resources)
    erin.is_superuser = False
    assert not sees(marketing) and not sees(human_resources)


def test_a_role_given_while_the_request_is_served_counts_for_the_rest_of_it(world):
    users, requests = world
    erin, step = users["erin"], requests[0].steps.get(state="active")
    with Serving((), "a page"):
        with pytest.raises(Step.DoesNotExist):
            _step_for_person.get(erin, step.pk)
        Delegation.objects.create(delegator=users["hank"], delegate=erin,
                                  starts_on=timezone.localdate(),
                                  ends_on=timezone.localdate())
        assert _step_for_person.get(erin, step.pk) == step


def test_a_compiled_shape_asks_one_statement_and_no_more(world):
    users, requests = world
    hank = users["hank"]
    with Serving((), "warm"):
        _request_for_person.get(hank, requests[0].reference)
    with Serving((), "a page"), CaptureQueriesContext(connection) as plain:
        _request_with_access(hank, requests[0].reference).get()
    with Serving((), "a page"), CaptureQueriesContext(connection) as prepared:
        _request_for_person.get(hank, requests[0].reference)
    assert len(prepared) == len(plain) == 2  # the person's roles, then the request
    assert prepared[0]["sql"] == plain[0]["sql"]
    assert prepared[1]["sql"] == plain[1]["sql"]


def test_outside_a_request_the_plain_queryset_answers(world):
    users, requests = world
    assert _request_for_person.get(users["hank"], requests[0].reference) == requests[0]
    with pytest.raises(ServiceRequest.DoesNotExist):
        _request_for_person.get(users["bob"], requests[0].reference)
