"""Who may see and do what, page by page: the same rule as everywhere else in the product.

A request or step the person may not see is a 404 (it does not exist for them); one they
may see but not act on is a 403 with the service's reason; an allowed action redirects.
"""

from __future__ import annotations

import pytest

from approvals.services import step_approve

# carol works in HR: a user from a department the request never touches.
PEOPLE = ["alice", "bob", "hank", "fiona", "ivan", "irene", "olivia", "carol"]

DETAIL = {"alice": 200, "bob": 404, "hank": 200, "fiona": 200, "ivan": 200, "irene": 200,
          "olivia": 200, "carol": 404}
CANCEL = {"alice": 302, "bob": 404, "hank": 403, "fiona": 403, "ivan": 403, "irene": 403,
          "olivia": 302, "carol": 404}
DECIDE = {"alice": 403, "bob": 404, "hank": 302, "fiona": 403, "ivan": 403, "irene": 403,
          "olivia": 403, "carol": 404}
WORK = {"alice": 403, "bob": 404, "hank": 403, "fiona": 403, "ivan": 302, "irene": 403,
        "olivia": 403, "carol": 404}


@pytest.mark.parametrize("username", PEOPLE)
def test_request_page(username, submit, as_user):
    request = submit(cost="6000")
    response = as_user(username).get(f"/portal/requests/{request.reference}/")
    assert response.status_code == DETAIL[username]
    if response.status_code == 404:
        assert request.title not in response.content.decode()


@pytest.mark.parametrize("username", PEOPLE)
def test_cancel(username, submit, as_user):
    request = submit(cost="6000")
    response = as_user(username).post(f"/portal/requests/{request.reference}/cancel/")
    assert response.status_code == CANCEL[username]
    request.refresh_from_db()
    assert (request.state == "cancelled") == (CANCEL[username] == 302)


@pytest.mark.parametrize("action", ["approve", "reject"])
@pytest.mark.parametrize("username", PEOPLE)
def test_decide(username, action, submit, as_user):
    request = submit(cost="6000")
    step = request.steps.get(state="active")
    response = as_user(username).post(f"/approvals/steps/{step.pk}/{action}/",
                                      {"comment": "Checked"})
    assert response.status_code == DECIDE[username]
    step.refresh_from_db()
    assert (step.state != "active") == (DECIDE[username] == 302)


@pytest.mark.parametrize("action", ["claim", "complete"])
@pytest.mark.parametrize("username", PEOPLE)
def test_work(username, action, org, submit, as_user):
    request = submit(cost="6000")
    step_approve(actor=org.hank, step=request.steps.get(state="active"))
    step_approve(actor=org.fiona, step=request.steps.get(state="active"))
    step = request.steps.get(state="active")
    assert step.kind == "execution"
    response = as_user(username).post(f"/work/steps/{step.pk}/{action}/", {"note": "Done"})
    assert response.status_code == WORK[username]


def test_changing_an_id_in_the_url_shows_nothing(org, submit, as_user):
    # Given a request of bob's and one of alice's
    mine = submit(actor=org.bob, cost="100")
    theirs = submit(actor=org.alice, cost="100", title="Alice's private matter")
    bob = as_user("bob")
    assert bob.get(f"/portal/requests/{mine.reference}/").status_code == 200
    # When bob edits the reference or the step id in the URL
    pages = [
        bob.get(f"/portal/requests/{theirs.reference}/"),
        bob.get("/portal/requests/SR-2026-999999/"),
        bob.post(f"/approvals/steps/{theirs.steps.get(state='active').pk}/approve/"),
        bob.post(f"/work/steps/{theirs.steps.get(order=3).pk}/complete/"),
        bob.post("/approvals/steps/999999/approve/"),
    ]
    # Then nothing of alice's request shows
    assert [p.status_code for p in pages] == [404] * 5
    assert all("Alice's private matter" not in p.content.decode() for p in pages)
    # and bob's lists do not show it either
    listing = bob.get("/portal/requests/?scope=all").content.decode()
    assert mine.reference in listing and theirs.reference not in listing


def test_anonymous_visitors_are_sent_to_sign_in(submit, client):
    request = submit()
    for url in ["/", "/portal/", "/portal/new/laptop/", "/portal/requests/",
                f"/portal/requests/{request.reference}/", "/approvals/", "/work/",
                "/approvals/delegations/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_the_listing_shape_of_the_rule_gives_exactly_the_same_requests(org, submit):
    # restrict(user, listing=True) is the union-of-ids shape "all requests I can see" uses
    # at scale; it must never differ from the rule's default shape, for anyone.
    from governance.models import User
    from requests_app.models import ServiceRequest

    submit(cost="6000")
    approved = submit(actor=org.bob, cost="100")
    step_approve(actor=org.hank, step=approved.steps.get(state="active"))
    submit(actor=org.carol, item="laptop", cost="25000")
    for user in User.objects.all():
        default = set(ServiceRequest.objects.restrict(user).values_list("pk", flat=True))
        listing = set(ServiceRequest.objects.restrict(user, listing=True)
                      .values_list("pk", flat=True))
        assert listing == default, user.username
