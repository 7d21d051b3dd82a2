"""The portal as an employee meets it: find a service, ask for it, follow it, cancel it."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from approvals.models import Step
from approvals.services import delegation_create, step_approve
from requests_app.models import ServiceRequest


def test_catalog_is_grouped_by_department_and_searchable(as_user):
    alice = as_user("alice")
    page = alice.get("/portal/").content.decode()
    assert page.index(">Facilities</h2>") < page.index(">IT</h2>")
    assert "New laptop" in page and "Office repair" in page

    found = alice.get("/portal/?q=laptop").content.decode()
    assert "New laptop" in found and "Office repair" not in found
    assert "No service matches" in alice.get("/portal/?q=zeppelin").content.decode()


def test_the_submit_form_labels_every_input(as_user):
    page = as_user("alice").get("/portal/new/laptop/").content.decode()
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
    assert {"id_details", "id_model", "id_needed_by", "id_title", "id_estimated_cost"} <= set(ids)
    for input_id in ids:
        assert f'for="{input_id}"' in page, f"no label for {input_id}"
    assert 'name="csrfmiddlewaretoken"' in page


def test_submitting_creates_the_request_and_shows_who_decides(org, as_user):
    response = as_user("alice").post("/portal/new/laptop/", {
        "details": "Screen cracked", "model": "13-inch standard", "estimated_cost": "1,200",
        "title": "",
    }, follow=True, headers={"Accept-Language": "en-GB"})
    request = ServiceRequest.objects.get()
    assert response.redirect_chain[-1][0] == f"/portal/requests/{request.reference}/"
    page = response.content.decode()
    assert (f"{request.reference} submitted with an estimated cost of 1,200.00 EUR. "
            "Hank Hughes (Marketing) decides next.") in page
    assert request.title == "New laptop" and str(request.estimated_cost) == "1200.00"


def test_a_portal_submission_that_goes_through_reads_no_form_extras(
        org, submit, as_user, django_assert_max_num_queries):
    # Given a running server's state: this year's reference numbering started, alice signed in
    submit()
    alice = as_user("alice")
    alice.get("/portal/new/laptop/")

    # When she submits a laptop: the session with its person, the item through the
    # catalog's rule, the submission's own statements (the path with its departments, the
    # reference and keys, the steps with the request and the audit events, the notices);
    # not the cost thresholds the form's help text states, which only a page shown again
    # needs (8 with the savepoint on PostgreSQL; 11 while the path, the steps, the request
    # and the audit events were statements of their own; 16 while every submission read
    # the thresholds)
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 15):
        response = alice.post("/portal/new/laptop/", {
            "details": "Screen cracked", "model": "13-inch standard", "estimated_cost": "1200",
        })

    # Then she is sent to her new request
    assert response.status_code == 302
    assert ServiceRequest.objects.count() == 2


def test_a_refused_submission_keeps_what_was_typed_and_says_why(org, as_user):
    response = as_user("alice").post("/portal/new/laptop/", {
        "details": "", "model": "Developer workstation", "estimated_cost": "lots",
        "title": "For the fair",
    })
    assert response.status_code == 400
    page = response.content.decode()
    assert "Some answers need attention" in page
    assert "This field is required." in page
    assert "“lots” is not an amount" in page
    assert "Write the amount like 1250, 1250,00 or 1.250,00" in page
    assert "Finance approves at" in page  # the page shown again states the thresholds
    assert 'value="For the fair"' in page and 'value="lots"' in page
    assert '<option value="Developer workstation" selected>' in page
    assert not ServiceRequest.objects.exists()


def test_an_unpublished_item_cannot_be_requested(org, as_user):
    org.item["laptop"].is_published = False
    org.item["laptop"].save()
    assert as_user("alice").get("/portal/new/laptop/").status_code == 404


def test_my_requests_filters_and_pages(org, submit, as_user):
    for i in range(23):
        submit(cost="100", title=f"Laptop {i}")
    submit(item="access", answers={"details": "CRM", "system": "CRM"}, title="CRM access")
    alice = as_user("alice")

    first = alice.get("/portal/requests/").content.decode()
    assert "24 requests" in first and "Page 1 of 2" in first
    assert "CRM access" in first  # newest first
    second = alice.get("/portal/requests/?page=2").content.decode()
    assert "Laptop 0" in second

    only_access = alice.get("/portal/requests/?item=access").content.decode()
    assert "1 request," in only_access and "CRM access" in only_access
    searched = alice.get("/portal/requests/?q=Laptop+7").content.decode()
    assert "Laptop 7" in searched and "Laptop 8" not in searched
    assert "0 requests" in alice.get("/portal/requests/?state=fulfilled").content.decode()
    # bob's own list does not show alice's requests
    assert "0 requests" in as_user("bob").get("/portal/requests/").content.decode()


def test_heads_can_list_every_request_they_can_see(org, submit, as_user):
    submit(cost="100", title="Alice's chair")
    hank = as_user("hank")
    assert "Alice&#x27;s chair" not in hank.get("/portal/requests/").content.decode()
    assert "Alice&#x27;s chair" in hank.get("/portal/requests/?scope=all").content.decode()


def test_the_timeline_says_who_decided_for_whom_and_how_late(org, submit, as_user):
    # Given hank delegated to bob, and bob approved for him, a little late: submitted two
    # hours into a coming working day, so the five hours past due are working time whatever
    # the hour the test runs at (the delay is settled as a risk only if they are)
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=timezone.localdate(),
                      ends_on=timezone.localdate() + timedelta(days=14))
    calendar = org.hank.department.calendar
    day = timezone.localdate() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    opens, _closes = calendar.window(day)
    request = submit(cost="6000", at=opens + timedelta(hours=2))
    step = request.steps.get(state="active")
    step_approve(actor=org.bob, step=step, comment="Agreed with Hank",
                 at=step.due_at + timedelta(hours=5))

    page = as_user("alice").get(f"/portal/requests/{request.reference}/").content.decode()

    assert "Approved by Bob Brown for Hank Hughes" in page
    assert "Agreed with Hank" in page
    assert "5 h late" in page
    assert "Waiting for <strong>Fiona Fischer</strong>" in page
    assert "Not reached" not in page and "Starts when the step before it is done" in page
    # submitted, step activated, approved, the 5 h of delay settled as a risk, next step
    assert "Audit trail (5 events)" in page


def test_the_open_step_says_how_long_is_left_or_how_late_it_is(org, submit, as_user):
    request = submit(cost="100")
    alice = as_user("alice")
    assert re.search(r"due in \d+ h", alice.get(f"/portal/requests/{request.reference}/")
                     .content.decode())
    Step.objects.filter(request=request, state="active").update(
        due_at=timezone.now() - timedelta(days=2, hours=1))
    page = alice.get(f"/portal/requests/{request.reference}/").content.decode()
    assert "2 days overdue" in page


def test_alice_cancels_while_open_and_a_second_cancel_is_a_conflict(org, submit, as_user):
    request = submit(cost="100")
    alice = as_user("alice")
    response = alice.post(f"/portal/requests/{request.reference}/cancel/",
                          {"reason": "Found one in the cupboard"}, follow=True)
    page = response.content.decode()
    assert "is cancelled" in page and "Found one in the cupboard" in page
    assert "Cancel this request" not in page

    again = alice.post(f"/portal/requests/{request.reference}/cancel/")
    assert again.status_code == 409
    assert f"{request.reference} is already cancelled." in again.content.decode()


def test_times_show_in_the_viewers_timezone(org, submit, as_user):
    request = submit(cost="100")
    at = request.submitted_at
    org.alice.timezone = "America/New_York"
    org.alice.save()
    page = as_user("alice").get(f"/portal/requests/{request.reference}/").content.decode()
    assert timezone.localtime(at, timezone=__import__("zoneinfo").ZoneInfo("America/New_York")
                              ).strftime("%H:%M") in page
    assert "EST" in page or "EDT" in page


def test_the_request_page_says_when_the_deciding_head_is_away_and_who_decides_meanwhile(
        org, submit, as_user):
    request = submit(cost="100")
    alice = as_user("alice")
    page = alice.get(f"/portal/requests/{request.reference}/").content.decode()
    assert "is away until" not in page
    ends = timezone.localdate() + timedelta(days=3)
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=timezone.localdate(),
                      ends_on=ends)
    page = alice.get(f"/portal/requests/{request.reference}/").content.decode()
    assert (f"Hank Hughes is away until {ends.day} {ends:%b} {ends.year}</strong>: "
            "Bob Brown decides for them meanwhile.") in page
