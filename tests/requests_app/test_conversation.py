"""Who sees which comments, internal notes and files on a request, role by role.

Alice's laptop request (1,200 EUR) goes to Hank (head of Marketing) for approval, skips the
finance approval (under the threshold) and then goes to IT for fulfilment.
"""

import pytest

from approvals.signals import comment_added
from governance.errors import NotAllowed, ValidationFailed
from governance.models import AuditEvent
from requests_app.models import Attachment, Comment
from requests_app.services_conversation import attachment_add, comment_add

# Who sees the request at all, and who of them reads internal notes.
SEES_NOTES = ["hank", "mia", "ivan", "isaac", "irene", "olivia", "admin"]
SEES_PUBLIC_ONLY = ["alice", "fiona", "felix"]
SEES_NOTHING = ["bob", "carol", "oscar", "fred", "dave"]


@pytest.fixture
def conversation(org, submit, files):
    request = submit(cost="1200")
    public = comment_add(actor=org.hank, request=request, body="Is the 13-inch enough?",
                         files=[files.pdf("public-quote.pdf")])
    note = comment_add(actor=org.hank, request=request, body="Budget is tight this quarter.",
                       internal=True, files=[files.pdf("internal-budget.pdf")])
    reply = comment_add(actor=org.alice, request=request, body="Yes, it is.")
    return request, public, note, reply


@pytest.mark.parametrize("username", SEES_NOTES + SEES_PUBLIC_ONLY + SEES_NOTHING)
def test_each_role_sees_exactly_what_the_rule_allows(org, conversation, username):
    request, public, note, reply = conversation
    user = getattr(org, username)
    comments = set(Comment.objects.restrict(user).filter(request=request))
    files = {a.original_name for a in Attachment.objects.restrict(user).filter(request=request)}
    if username in SEES_NOTES:
        assert comments == {public, note, reply}
        assert files == {"public-quote.pdf", "internal-budget.pdf"}
    elif username in SEES_PUBLIC_ONLY:
        assert comments == {public, reply}
        assert files == {"public-quote.pdf"}
    else:
        assert comments == set()
        assert files == set()


@pytest.mark.parametrize("username", SEES_NOTES + SEES_PUBLIC_ONLY + SEES_NOTHING)
def test_one_requests_timeline_read_the_cheap_way_follows_the_same_rule(org, conversation,
                                                                        username):
    # restrict(user, request=…) asks the request's rules once instead of nesting them.
    request, *_ = conversation
    user = getattr(org, username)
    assert set(Comment.objects.restrict(user, request=request)) == set(
        Comment.objects.restrict(user).filter(request=request))
    assert set(Attachment.objects.restrict(user, request=request)) == set(
        Attachment.objects.restrict(user).filter(request=request))


def test_the_requester_never_sees_internal_notes_even_as_a_member_of_the_department(
    org, conversation
):
    # Alice is a member of Marketing, the department accountable for the head approval.
    request, _public, note, _reply = conversation
    assert org.alice.department == org.dept["MKT"]
    assert note not in Comment.objects.restrict(org.alice)


def test_the_requester_cannot_write_an_internal_note(org, conversation):
    request, *_ = conversation
    with pytest.raises(NotAllowed, match="internal notes"):
        comment_add(actor=org.alice, request=request, body="psst", internal=True)


def test_someone_outside_the_request_cannot_comment(org, conversation):
    request, *_ = conversation
    with pytest.raises(NotAllowed):
        comment_add(actor=org.carol, request=request, body="Hello?")


def test_an_empty_comment_is_refused(org, conversation):
    request, *_ = conversation
    with pytest.raises(ValidationFailed, match="Write a comment or attach a file"):
        comment_add(actor=org.alice, request=request, body="   ")


def test_comments_are_audited_and_notes_kept_out_of_the_requesters_timeline(org, conversation):
    request, public, note, _reply = conversation
    event = AuditEvent.objects.get(verb="comment.added", object_id=str(public.pk))
    assert event.correlation == request.reference
    assert event.data["attachments"][0]["name"] == "public-quote.pdf"
    note_event = AuditEvent.objects.get(verb="note.added", object_id=str(note.pk))
    assert note_event.data["internal"] is True
    assert "Budget" not in str(note_event.data)
    # The audit events' own rule: the requester's timeline has the comment, not the note;
    # the staff's has both.
    assert note_event not in AuditEvent.objects.restrict(org.alice, about=request)
    assert event in AuditEvent.objects.restrict(org.alice, about=request)
    assert note_event in AuditEvent.objects.restrict(org.hank, about=request)


def test_comment_added_is_sent_for_notifications(org, submit):
    request = submit()
    seen = []
    comment_added.connect(lambda **kw: seen.append(kw["comment"].internal), weak=False,
                          dispatch_uid="t-comment")
    try:
        comment_add(actor=org.hank, request=request, body="Public")
        comment_add(actor=org.hank, request=request, body="Note", internal=True)
    finally:
        comment_added.disconnect(dispatch_uid="t-comment")
    assert seen == [False, True]


def test_files_on_the_request_itself_follow_the_request(org, submit, files):
    request = submit()
    [attachment] = attachment_add(actor=org.alice, request=request, files=[files.docx()])
    assert attachment.content_type.endswith("wordprocessingml.document")
    assert not Attachment.objects.restrict(org.carol).filter(pk=attachment.pk).exists()
    assert Attachment.objects.restrict(org.hank).filter(pk=attachment.pk).exists()
    assert AuditEvent.objects.filter(verb="attachment.added", object_id=str(attachment.pk)).exists()


def test_files_cannot_be_added_to_someone_elses_comment(org, conversation, files):
    request, public, *_ = conversation
    with pytest.raises(NotAllowed):
        attachment_add(actor=org.alice, request=request, comment=public, files=[files.pdf()])
