"""A request's conversation reaches people through the notification outbox."""

from accountability.models import Notification, NotificationKind
from approvals.choices import StepState
from approvals.services import step_answer, step_hold
from requests_app.services_conversation import comment_add

CONVERSATION = [NotificationKind.QUESTION, NotificationKind.ANSWER, NotificationKind.REMINDER,
                NotificationKind.COMMENT]


def notices(user):
    """The conversation's notices (the lifecycle's are tested in test_lifecycle_notices)."""
    return list(Notification.objects.filter(recipient=user, kind__in=CONVERSATION)
                .values_list("kind", "subject"))


def test_a_question_reaches_the_requester_and_the_answer_the_asker(org, submit):
    request = submit(cost="100")
    step = request.steps.get(state=StepState.ACTIVE)

    step_hold(actor=org.hank, step=step, question="Which model exactly?")
    assert notices(org.alice) == [
        (NotificationKind.QUESTION, f"{request.reference}: Hank Hughes needs more information")
    ]
    assert Notification.objects.get(recipient=org.alice, kind=NotificationKind.QUESTION).link == request.get_absolute_url()

    question = Notification.objects.get(recipient=org.alice, kind=NotificationKind.QUESTION)
    assert question.read_at is None

    step_answer(actor=org.alice, step=step, answer="The 13-inch one.")
    question.refresh_from_db()
    assert question.read_at is not None, "answered: the question no longer counts as new"
    assert notices(org.hank) == [
        (NotificationKind.ANSWER, f"{request.reference}: Alice Adams answered your question")
    ]


def test_comments_notify_the_other_side_and_internal_notes_never_the_requester(org, submit):
    request = submit(cost="100")

    comment_add(actor=org.alice, request=request, body="Any news?")
    assert [kind for kind, _ in notices(org.hank)] == [NotificationKind.COMMENT]

    comment_add(actor=org.hank, request=request, body="Checking the budget.", internal=True)
    assert notices(org.alice) == []

    comment_add(actor=org.hank, request=request, body="Approved this afternoon.")
    assert [kind for kind, _ in notices(org.alice)] == [NotificationKind.COMMENT]
