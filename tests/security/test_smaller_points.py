"""The smaller findings of the authorised attack (issue 16, item 8): the API's schema and docs
were public; a user name with a line break made its notification fail after all retries;
comment numbers revealed that internal notes exist; unpublished catalog items appeared in
everybody's filters."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail
from django.test import Client, override_settings

from accountability.models import EmailStatus, Notification, NotificationKind
from accountability.services.notifications import notifications_deliver
from approvals.choices import StepState
from governance.models import User
from requests_app.models import CatalogItem, Comment
from requests_app.services_conversation import comment_add
from tests.factories import api_token

pytestmark = pytest.mark.postgres


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The schema and the docs need a signed-in person ------------------------------------------
@pytest.mark.parametrize("path", ["/api/schema/", "/api/schema/?format=json"])
def test_the_schema_is_not_public(org, path):
    response = Client().get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_docs_page_sends_anonymous_people_to_sign_in(org):
    response = Client().get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs/")


def test_signed_in_people_and_tokens_read_the_schema_and_docs(org):
    assert signed_in(org.alice).get("/api/docs/").status_code == 200
    assert signed_in(org.alice).get("/api/schema/?format=json").json()["info"]["title"]
    token = api_token(org.alice)
    assert Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


@override_settings(SRM_API_DOCS_PUBLIC=True)
def test_a_setting_opens_the_schema_and_docs(org):
    assert Client().get("/api/schema/?format=json").status_code == 200
    assert Client().get("/api/docs/").status_code == 200


# --- Names in mail headers ----------------------------------------------------------------------
def test_a_line_break_in_a_name_cannot_break_or_inject_mail_headers(org, submit):
    # Given an author whose name carries a line break and a header of its own
    request = submit(cost="100")
    alice = User.objects.get(pk=org.alice.pk)
    alice.first_name = "Alice\r\nBcc: mallory@evil.example\n"
    alice.save()
    hank = User.objects.get(pk=org.hank.pk)
    hank.last_name = "Hughes\u2028X-Injected: 1"
    hank.save()

    # When she comments and the notice to hank is delivered
    comment_add(actor=alice, request=request, body="Any news?")
    notifications_deliver()

    # Then the mail went out at the first attempt, to hank by name, with no extra header
    notice = Notification.objects.get(recipient=hank, kind=NotificationKind.COMMENT)
    assert notice.email_status == EmailStatus.SENT, notice.last_error
    [message] = [m for m in mail.outbox if "commented" in m.subject]
    raw = message.message().as_string()
    headers = raw.split("\n\n", 1)[0]
    assert not re.search(r"^(Bcc|X-Injected):", headers, re.MULTILINE)
    assert message.to == ['"Hank Hughes X-Injected: 1" <hank@example.com>']
    assert message.subject == f"[SRM] {request.reference}: Alice Bcc: mallory@evil.example " \
        "Adams commented"
    assert message.bcc == []


# --- Comment identifiers ------------------------------------------------------------------------
def test_comment_identifiers_do_not_count_the_internal_notes(org, submit):
    # Given a request with a comment, an internal note, and another comment
    request = submit(cost="100")
    first = comment_add(actor=org.alice, request=request, body="Any news?")
    comment_add(actor=org.hank, request=request, body="Budget tight.", internal=True)
    second = comment_add(actor=org.hank, request=request, body="Approved soon.")

    # Then what the requester gets (page anchors, API ids, timeline) is opaque
    page = signed_in(org.alice).get(request.get_absolute_url()).content.decode()
    for comment in (first, second):
        assert f'id="comment-{comment.uuid}"' in page
        assert f'id="comment-{comment.pk}"' not in page
    token = api_token(org.alice)
    listed = Client().get(f"/api/v1/requests/{request.reference}/comments/",
                          HTTP_AUTHORIZATION=f"Token {token}").json()
    ids = [c["id"] for c in (listed["results"] if isinstance(listed, dict) else listed)]
    assert ids == [str(first.uuid), str(second.uuid)]
    assert all(uuid.UUID(i) for i in ids)
    detail = Client().get(f"/api/v1/requests/{request.reference}/",
                          HTTP_AUTHORIZATION=f"Token {token}").json()
    subjects = " ".join(event["subject"] for event in detail["timeline"])
    assert str(second.pk) not in re.findall(r"\d+", subjects)


def test_existing_comments_have_distinct_identifiers(org, submit):
    request = submit(cost="100")
    for n in range(3):
        comment_add(actor=org.alice, request=request, body=f"Note {n}")
    assert len(set(Comment.objects.values_list("uuid", flat=True))) == 3


# --- Unpublished items in filters ---------------------------------------------------------------
@pytest.fixture
def retired(org, submit):
    """The laptop item, unpublished after alice requested one (hank approves it)."""
    request = submit(cost="100")
    CatalogItem.objects.filter(code="laptop").update(is_published=False)
    return request


def _options(html: str) -> set[str]:
    select = html.split('name="item"', 1)[1].split("</select>", 1)[0]
    return set(re.findall(r'<option value="([^"]+)"', select))


def test_an_unpublished_item_is_offered_as_a_filter_only_to_people_with_requests_for_it(
        org, retired):
    # Alice requested one, hank decides it: both may filter by it
    assert "laptop" in _options(signed_in(org.alice).get("/portal/requests/").content.decode())
    assert "laptop" in _options(signed_in(org.hank).get("/approvals/").content.decode())
    # Carol has no request for it, so it is not offered to her (published items are)
    carol = _options(signed_in(org.carol).get("/portal/requests/").content.decode())
    assert "laptop" not in carol
    assert "desk-move" in carol
    assert retired.steps.filter(state=StepState.ACTIVE).exists()
