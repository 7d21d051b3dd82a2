"""The conversation through the browser's eyes: the panel, its forms, CSRF and downloads."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from approvals.choices import StepState
from approvals.models import StepHold
from requests_app.models import Attachment, Comment
from requests_app.services_conversation import attachment_add, comment_add


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def page_url(request) -> str:
    return reverse("conversation:page", args=[request.reference])


@pytest.fixture
def laptop(org, submit):
    return submit(cost="1200")


@pytest.fixture
def note_file(org, laptop, files):
    comment = comment_add(actor=org.hank, request=laptop, body="Budget is tight.", internal=True,
                          files=[files.pdf("budget.pdf")])
    return comment.attachments.get()


def test_download_streams_the_file_as_an_attachment_with_nosniff(org, laptop, files):
    comment = comment_add(actor=org.alice, request=laptop, body="Quote", files=[files.pdf()])
    attachment = comment.attachments.get()
    response = client_for(org.hank).get(reverse("conversation:download", args=[attachment.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="quote.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(attachment.size)
    assert b"".join(response.streaming_content) == files.minimal_pdf()


@pytest.mark.parametrize("username", ["carol", "bob", "oscar", "alice"])
def test_anyone_not_allowed_gets_404_for_an_internal_file(org, note_file, username):
    url = reverse("conversation:download", args=[note_file.uuid])
    assert client_for(getattr(org, username)).get(url).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(note_file):
    response = Client().get(reverse("conversation:download", args=[note_file.uuid]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_employee_gets_404_for_the_conversation_page(org, laptop):
    assert client_for(org.carol).get(page_url(laptop)).status_code == 404


def test_the_requester_does_not_see_internal_notes_on_the_page(org, laptop, note_file):
    comment_add(actor=org.hank, request=laptop, body="Which model exactly?")
    alice_page = client_for(org.alice).get(page_url(laptop)).content.decode()
    hank_page = client_for(org.hank).get(page_url(laptop)).content.decode()
    assert "Which model exactly?" in alice_page and "Which model exactly?" in hank_page
    assert "Budget is tight." not in alice_page and "budget.pdf" not in alice_page
    assert "Budget is tight." in hank_page and "budget.pdf" in hank_page
    # Only the departments get the internal-note box; only Hank may put the step on hold.
    assert 'name="internal"' in hank_page and 'name="internal"' not in alice_page
    assert "Ask Alice Adams for more information" in hank_page
    assert "for more information" not in alice_page


def test_comment_text_is_escaped_and_links_are_clickable(org, laptop):
    comment_add(actor=org.alice, request=laptop,
                body="<script>alert(1)</script>\nSee https://example.com/quote")
    page = client_for(org.hank).get(page_url(laptop)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>" in page
    assert '<a href="https://example.com/quote" rel="nofollow">' in page


def test_posting_a_comment_with_a_file_returns_to_the_page(org, laptop, files):
    client = client_for(org.alice)
    response = client.post(
        reverse("conversation:comment", args=[laptop.reference]),
        {"body": "Here is the quote", "files": [files.pdf()], "next": "/somewhere/else/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/somewhere/else/#conversation"
    comment = Comment.objects.get()
    assert (comment.author, comment.body, comment.internal) == (org.alice, "Here is the quote",
                                                                 False)
    assert comment.attachments.get().original_name == "quote.pdf"


def test_a_foreign_next_url_is_ignored(org, laptop):
    response = client_for(org.alice).post(
        reverse("conversation:comment", args=[laptop.reference]),
        {"body": "Hi", "next": "https://evil.example/phish"},
    )
    assert response["Location"] == reverse("portal:request_detail", args=[laptop.reference]) + "#conversation"


def test_a_refused_file_shows_why_keeps_the_text_and_stores_nothing(org, laptop, files):
    before = files.stored()
    response = client_for(org.alice).post(
        reverse("conversation:comment", args=[laptop.reference]),
        {"body": "My invoice", "files": [files.exe("invoice.pdf")]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“invoice.pdf” is a Windows program, which cannot be attached" in page
    assert ">My invoice</textarea>" in page
    assert not Comment.objects.exists() and not Attachment.objects.exists()
    assert files.stored() == before


def test_forms_need_the_csrf_token(org, laptop):
    client = client_for(org.alice, enforce_csrf_checks=True)
    url = reverse("conversation:comment", args=[laptop.reference])
    assert client.post(url, {"body": "Hi"}).status_code == 403
    page = client.get(page_url(laptop)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(url, {"body": "Hi", "csrfmiddlewaretoken": token}).status_code == 302
    assert Comment.objects.get().body == "Hi"


def test_hold_and_answer_through_the_forms(org, laptop, files):
    step = laptop.steps.get(state=StepState.ACTIVE)
    hank = client_for(org.hank)
    response = hank.post(reverse("conversation:hold", args=[laptop.reference, step.pk]),
                         {"question": "Which model?"})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.on_hold_since is not None

    alice = client_for(org.alice)
    page = alice.get(page_url(laptop)).content.decode()
    assert "More information needed" in page and "Your answer" in page
    response = alice.post(reverse("conversation:answer", args=[laptop.reference]),
                          {"answer": "13-inch, quote attached", "files": [files.pdf()]})
    assert response.status_code == 302
    hold = StepHold.objects.get()
    assert hold.answer == "13-inch, quote attached"
    assert hold.answer_comment.attachments.get().original_name == "quote.pdf"
    step.refresh_from_db()
    assert step.on_hold_since is None


def test_someone_who_may_not_hold_is_told_why(org, laptop):
    step = laptop.steps.get(state=StepState.ACTIVE)
    response = client_for(org.alice).post(
        reverse("conversation:hold", args=[laptop.reference, step.pk]), {"question": "?"})
    assert response.status_code == 403
    assert "You cannot decide on your own request." in response.content.decode()
    assert not StepHold.objects.exists()


def test_the_page_reads_a_bounded_number_of_queries(org, laptop, files,
                                                    django_assert_max_num_queries):
    for i in range(15):
        comment_add(actor=org.hank, request=laptop, body=f"Comment {i}", internal=i % 2 == 0,
                    files=[files.pdf(f"q{i}.pdf")])
    client = client_for(org.hank)
    # 14 whatever the number of comments: the panel's reads plus the page's navigation.
    with django_assert_max_num_queries(14) as queries:
        response = client.get(page_url(laptop))
    assert response.content.decode().count('<li class="comment') == 15
    assert response.content.decode().count("/files/") == 15
    print(f"conversation page, 15 comments with files: {len(queries)} queries")


def test_the_request_page_reads_its_conversation_only_when_it_has_one(
        org, laptop, files, django_assert_num_queries):
    detail = reverse("portal:request_detail", args=[laptop.reference])
    alice = client_for(org.alice)
    alice.get(detail)  # the session's first use is not what is measured
    # Given a request nobody has commented on, the panel asks nothing of its own: the session
    # with its person, the roles, the navigation, the request, its steps, whether the head
    # deciding is away, the audit trail.
    with django_assert_num_queries(7):
        page = alice.get(detail).content.decode()
    assert "No comments yet." in page
    # When a comment with a file, an internal note and a file on the request are added,
    comment_add(actor=org.alice, request=laptop, body="Quote attached", files=[files.pdf("quote.pdf")])
    comment_add(actor=org.hank, request=laptop, body="Budget is tight.", internal=True)
    attachment_add(actor=org.alice, request=laptop, files=[files.pdf("spec.pdf")])
    page = alice.get(detail).content.decode()
    # then the page shows them (through the rules: never the note to the requester),
    assert "Quote attached" in page and "quote.pdf" in page
    assert "Files on the request" in page and "spec.pdf" in page
    assert "Budget is tight." not in page
    assert "Budget is tight." in client_for(org.hank).get(detail).content.decode()
