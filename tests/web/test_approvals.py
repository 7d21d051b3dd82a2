"""The approvals inbox, the work queue and delegations, with htmx and as plain form posts."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from approvals.models import Delegation, Step
from approvals.services import step_approve


def _active(request) -> Step:
    return request.steps.get(state="active")


def test_the_inbox_shows_the_oldest_due_first_and_marks_the_overdue(org, submit, as_user):
    later = submit(cost="100", title="Later one")
    sooner = submit(actor=org.bob, cost="100", title="Overdue one")
    Step.objects.filter(pk=_active(sooner).pk).update(due_at=timezone.now() - timedelta(hours=3))

    page = as_user("hank").get("/approvals/").content.decode()

    assert page.index("Overdue one") < page.index("Later one")
    assert "3 h overdue" in page and 'class="step-card is-overdue"' in page
    assert "2 waiting for your decision" in page
    assert "€100.00" in page and "Alice Adams · Marketing" in page
    assert f'id="step-{_active(later).pk}"' in page


def test_approving_with_htmx_swaps_the_row_and_refreshes_the_counts(org, submit, as_user, htmx):
    request = submit(cost="6000")
    step = _active(request)
    response = as_user("hank").post(f"/approvals/steps/{step.pk}/approve/",
                                    {"comment": "Within plan"}, **htmx)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith(f'<article class="step-card" id="step-{step.pk}">')
    assert "Approved by you." in page and "Next: Finance approval with Fiona Fischer" in page
    assert 'id="nav-links" hx-swap-oob="true"' in page
    step.refresh_from_db()
    assert (step.state, step.comment) == ("approved", "Within plan")


def test_rejecting_without_a_reason_keeps_the_row_with_the_error(org, submit, as_user, htmx):
    request = submit(cost="100")
    step = _active(request)
    hank = as_user("hank")

    response = hank.post(f"/approvals/steps/{step.pk}/reject/", {"comment": "  "}, **htmx)

    assert response.status_code == 400
    page = response.content.decode()
    assert "A reason is required to reject." in page
    assert 'aria-invalid="true"' in page and "reject-panel\" open" in page
    assert _active(request).pk == step.pk

    plain = hank.post(f"/approvals/steps/{step.pk}/reject/", {"comment": ""})
    assert plain.status_code == 400
    assert "Say why you reject it: the requester needs the reason." in plain.content.decode()


def test_a_plain_post_lands_back_on_the_list_with_a_message(org, submit, as_user):
    request = submit(cost="100")
    response = as_user("hank").post(f"/approvals/steps/{_active(request).pk}/reject/",
                                    {"comment": "Not this quarter"}, follow=True)
    assert response.redirect_chain == [("/approvals/", 302)]
    assert f"{request.reference}: Head approval rejected." in response.content.decode()


def test_the_request_page_form_returns_to_the_request_page_only(org, submit, as_user):
    request = submit(cost="100")
    hank = as_user("hank")
    detail = f"/portal/requests/{request.reference}/"
    assert "Reject request" in hank.get(detail).content.decode()
    response = hank.post(f"/approvals/steps/{_active(request).pk}/approve/",
                         {"next": detail})
    assert response["Location"] == detail
    other = submit(cost="100")
    response = hank.post(f"/approvals/steps/{_active(other).pk}/approve/",
                         {"next": "https://evil.example.com/"})
    assert response["Location"] == "/approvals/"


def test_deciding_twice_is_a_conflict_with_the_reason(org, submit, as_user, htmx):
    request = submit(cost="100")
    step = _active(request)
    step_approve(actor=org.hank, step=step)
    hank = as_user("hank")

    plain = hank.post(f"/approvals/steps/{step.pk}/approve/")
    assert plain.status_code == 409
    assert "was already approved by Hank Hughes" in plain.content.decode()

    row = hank.post(f"/approvals/steps/{step.pk}/reject/", {"comment": "No"}, **htmx)
    assert row.status_code == 409
    assert "was already approved by Hank Hughes" in row.content.decode()
    assert "Approved by you." in row.content.decode()


def test_not_allowed_with_htmx_is_an_inline_403(org, submit, as_user, htmx):
    request = submit(cost="100")
    response = as_user("irene").post(f"/approvals/steps/{_active(request).pk}/approve/", **htmx)
    assert response.status_code == 403
    assert "Only Hank Hughes (head of Marketing) or their delegate" in response.content.decode()


def test_an_agent_takes_and_completes_work_from_the_queue(org, submit, as_user, htmx):
    request = submit(cost="100")
    step_approve(actor=org.hank, step=_active(request))
    work = _active(request)
    ivan = as_user("ivan")
    assert "Take it" in ivan.get("/work/").content.decode()

    claimed = ivan.post(f"/work/steps/{work.pk}/claim/", **htmx).content.decode()
    assert "Ivan Ivanov" in claimed and "Take it" not in claimed
    assert "Take over from Ivan" in as_user("isaac").get("/work/").content.decode()

    done = ivan.post(f"/work/steps/{work.pk}/complete/", {"note": "On your desk"}, follow=True)
    assert f"{request.reference}: Fulfilment is done." in done.content.decode()
    request.refresh_from_db()
    assert request.state == "fulfilled"
    assert "No work is waiting" in ivan.get("/work/").content.decode()


def test_the_head_of_it_may_not_complete_agents_work(org, submit, as_user):
    request = submit(cost="100")
    step_approve(actor=org.hank, step=_active(request))
    response = as_user("irene").post(f"/work/steps/{_active(request).pk}/complete/")
    assert response.status_code == 403
    assert "Only agents of IT can complete" in response.content.decode()


def test_hank_delegates_while_away_and_ends_it(org, submit, as_user):
    request = submit(cost="100")
    hank = as_user("hank")
    today = timezone.localdate()
    response = hank.post("/approvals/delegations/", {
        "delegate": "bob", "starts_on": today, "ends_on": today + timedelta(days=7),
        "reason": "Holiday"}, follow=True)
    assert "Bob Brown decides for you" in response.content.decode()

    bob = as_user("bob")
    inbox = bob.get("/approvals/").content.decode()
    assert request.reference in inbox and "Accountable" in inbox

    delegation = Delegation.objects.get()
    # bob sees it (he received it) but only hank may end it
    assert as_user("bob").post(f"/approvals/delegations/{delegation.pk}/end/").status_code == 403
    assert as_user("carol").post(f"/approvals/delegations/{delegation.pk}/end/").status_code == 404
    hank.post(f"/approvals/delegations/{delegation.pk}/end/")
    assert request.reference not in as_user("bob").get("/approvals/").content.decode()


def test_a_delegation_that_makes_no_sense_is_refused_on_the_form(org, as_user):
    today = timezone.localdate()
    response = as_user("hank").post("/approvals/delegations/", {
        "delegate": "bob", "starts_on": today - timedelta(days=9),
        "ends_on": today - timedelta(days=2)})
    assert response.status_code == 400
    assert "Must be today or later." in response.content.decode()
    assert not Delegation.objects.exists()
