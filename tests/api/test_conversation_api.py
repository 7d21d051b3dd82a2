"""The conversation through the API: the same rules as the portal's conversation panel.

Given the ``world`` of tests/api/conftest.py (alice's laptop waiting for hank; bob cannot see
it), comments and internal notes are listed to whoever may see them, written through
``comment_add``, files are checked as in the portal and downloaded only by those who may see
them; a decider can put a step on hold and only the requester answers.
"""

from __future__ import annotations

import pytest

from approvals.models import Step, StepHold
from requests_app.models import Attachment, Comment
from requests_app.services_conversation import comment_add
from tests.api.conftest import ROLES
from tests.api.test_permissions import _matrix
from tests.requests_app.conftest import EXE, minimal_pdf, stored_files, upload

SEES_LAPTOP = _matrix(bob=404, others=200)


def _comments(client, reference):
    return client.get(f"/api/v1/requests/{reference}/comments/")


@pytest.mark.parametrize(("role", "expected"), [p.values for p in SEES_LAPTOP], ids=ROLES)
def test_listing_comments_follows_the_request_visibility(world, client_for, role, expected):
    response = _comments(client_for(role), world.laptop.reference)
    assert response.status_code == expected
    if expected == 404:
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("role", "expected"), [p.values for p in _matrix(bob=404, others=201)], ids=ROLES
)
def test_whoever_sees_the_request_may_comment(world, client_for, role, expected):
    response = client_for(role).post(
        f"/api/v1/requests/{world.laptop.reference}/comments/",
        {"body": "Any news?"}, format="json",
    )
    assert response.status_code == expected, response.json()
    if expected == 201:
        body = response.json()
        assert body["author"]["username"] == role
        assert body["internal"] is False and body["attachments"] == []
        assert Comment.objects.filter(uuid=body["id"], body="Any news?").exists()


# Who reads the internal notes of alice's laptop request: the staff of the departments working
# on it and the ops leader, never alice (its requester); bob does not see the request at all.
READS_NOTES = {"hank", "irene", "ivan", "fiona", "olivia"}


@pytest.mark.parametrize("role", ROLES[1:])
def test_internal_notes_are_never_returned_to_the_requester(world, org, client_for, role):
    comment_add(actor=org.hank, request=world.laptop, body="Budget is tight", internal=True)
    comment_add(actor=org.hank, request=world.laptop, body="Looking at it")
    response = _comments(client_for(role), world.laptop.reference)
    if role == "bob":
        assert response.status_code == 404
        return
    bodies = [c["body"] for c in response.json()]
    if role in READS_NOTES:
        assert bodies == ["Budget is tight", "Looking at it"]
    else:
        assert bodies == ["Looking at it"]


def test_the_requester_may_not_write_an_internal_note(world, client_for):
    response = client_for("alice").post(
        f"/api/v1/requests/{world.laptop.reference}/comments/",
        {"body": "psst", "internal": True}, format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "internal_not_allowed"
    assert not Comment.objects.filter(body="psst").exists()


def test_a_multipart_comment_carries_files_that_only_the_right_people_download(
    world, client_for
):
    response = client_for("alice").post(
        f"/api/v1/requests/{world.laptop.reference}/comments/",
        {"body": "Quote attached", "files": [upload("quote.pdf", minimal_pdf())]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    [attachment] = response.json()["attachments"]
    assert attachment["name"] == "quote.pdf"
    assert attachment["size"] == len(minimal_pdf())
    assert attachment["content_type"] == "application/pdf"
    assert attachment["uploaded_by"]["username"] == "alice"
    assert attachment["download_url"] == f"/api/v1/attachments/{attachment['id']}/download/"

    listed = _comments(client_for("hank"), world.laptop.reference).json()
    assert listed[0]["attachments"][0]["id"] == attachment["id"]

    download = client_for("hank").get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == minimal_pdf()
    assert download["Content-Type"] == "application/pdf"
    assert "quote.pdf" in download["Content-Disposition"]
    # bob is another employee who cannot see alice's request: 404, as for a missing file.
    assert client_for("bob").get(attachment["download_url"]).status_code == 404
    assert client_for("bob").get(attachment["download_url"]).json()["code"] == "not_found"
    assert client_for("anonymous").get(attachment["download_url"]).status_code == 401


def test_files_on_an_internal_note_are_not_downloadable_by_the_requester(world, org, client_for):
    note = comment_add(actor=org.hank, request=world.laptop, body="Supplier quote",
                       internal=True, files=[upload("supplier.pdf", minimal_pdf())])
    url = f"/api/v1/attachments/{note.attachments.get().uuid}/download/"
    assert client_for("alice").get(url).status_code == 404
    assert client_for("olivia").get(url).status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "max_bytes", "status", "code"),
    # A file over the limit is stopped while it streams in (kit.uploads): 413.
    [("big-quote.pdf", minimal_pdf(), 100, 413, "too_large"),
     ("invoice.pdf", EXE, 10_000, 400, "file_type_not_allowed")],
    ids=["oversize", "disallowed"],
)
def test_a_refused_upload_is_a_4xx_and_stores_nothing(world, client_for, settings, name,
                                                      content, max_bytes, status, code):
    settings.SRM_ATTACHMENT_MAX_BYTES = max_bytes
    before = stored_files()
    response = client_for("alice").post(
        f"/api/v1/requests/{world.laptop.reference}/comments/",
        {"body": "See attached", "files": [upload(name, content)]}, format="multipart",
    )
    assert response.status_code == status
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert set(body) == {"status", "code", "message", "field_errors"}
    assert f"“{name}”" in body["message"]
    assert not Comment.objects.filter(body="See attached").exists()
    assert Attachment.objects.count() == 0
    assert stored_files() == before


def test_an_unknown_attachment_is_404(world, client_for):
    response = client_for("olivia").get(
        "/api/v1/attachments/00000000-0000-4000-8000-000000000000/download/"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- Holds: a question stops the step's clock until the requester answers ------------------

# Asking about hank's laptop approval: only hank decides it; bob cannot see it.
HOLD_APPROVAL = _matrix(hank=201, bob=404, others=403)
# Asking about IT's access step: only IT's agent; bob and fiona cannot see it.
HOLD_WORK = _matrix(ivan=201, bob=404, fiona=404, others=403)


@pytest.mark.parametrize(("role", "expected"), [p.values for p in HOLD_APPROVAL], ids=ROLES)
def test_hold_an_approval(world, client_for, role, expected):
    response = client_for(role).post(f"/api/v1/steps/{world.laptop_step.pk}/hold/",
                                     {"question": "Which model exactly?"}, format="json")
    assert response.status_code == expected, response.json()
    held = Step.objects.get(pk=world.laptop_step.pk).on_hold_since is not None
    assert held == (expected == 201)
    if expected == 201:
        body = response.json()
        assert body["question"] == "Which model exactly?"
        assert body["asked_by"]["username"] == role
        assert body["request"] == world.laptop.reference and body["answered_at"] is None


@pytest.mark.parametrize(("role", "expected"), [p.values for p in HOLD_WORK], ids=ROLES)
def test_hold_a_work_step(world, client_for, role, expected):
    response = client_for(role).post(f"/api/v1/steps/{world.access_step.pk}/hold/",
                                     {"question": "Which CRM role?"}, format="json")
    assert response.status_code == expected, response.json()


def test_a_hold_needs_a_question_and_cannot_be_asked_twice(world, client_for):
    url = f"/api/v1/steps/{world.laptop_step.pk}/hold/"
    empty = client_for("hank").post(url, {"question": " "}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "question_required"
    assert client_for("hank").post(url, {"question": "Why?"}, format="json").status_code == 201
    again = client_for("hank").post(url, {"question": "Why?"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_on_hold"


# Answering: only alice, who made the request; others who see it are refused, bob gets 404.
ANSWER = _matrix(alice=200, bob=404, others=403)


@pytest.mark.parametrize(("role", "expected"), [p.values for p in ANSWER], ids=ROLES)
def test_answer(world, org, client_for, role, expected):
    from approvals.services import step_hold

    step_hold(actor=org.hank, step=world.laptop_step, question="Which model?")
    response = client_for(role).post(f"/api/v1/requests/{world.laptop.reference}/answer/",
                                     {"answer": "The 13-inch one."}, format="json")
    assert response.status_code == expected, response.json()
    hold = StepHold.objects.get(step=world.laptop_step)
    assert (hold.answered_at is not None) == (expected == 200)
    if expected == 200:
        assert response.json()["answer"] == "The 13-inch one."
        assert Step.objects.get(pk=world.laptop_step.pk).on_hold_since is None


def test_answering_without_an_open_question_is_a_conflict(world, client_for):
    response = client_for("alice").post(f"/api/v1/requests/{world.laptop.reference}/answer/",
                                        {"answer": "Hello"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "no_open_question"


def test_listing_comments_takes_a_fixed_number_of_queries(world, org, client_for,
                                                          django_assert_max_num_queries):
    for n in range(5):
        comment_add(actor=org.hank, request=world.laptop, body=f"Update {n}",
                    files=[upload(f"q{n}.pdf", minimal_pdf())])
    client = client_for("olivia")
    with django_assert_max_num_queries(8):
        response = _comments(client, world.laptop.reference)
    assert len(response.json()) == 5
