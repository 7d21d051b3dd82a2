"""A frozen or stopped broker never holds up a web request: the change commits, the answer
comes within 2 s, /healthz/ready says which dependency failed, and the work the request
asked for (here: a comment's notice) is delivered once the broker is back, exactly once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accountability.models import EmailStatus, Notification
from operations.models import OutboxTask
from requests_app.models import Comment
from tests.chaos.stack import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DISPATCH = ("from operations.outbox import outbox_dispatch\n"
            "from accountability.services.notifications import notifications_deliver\n"
            "print(outbox_dispatch(), notifications_deliver())")


def _token(username: str) -> str:
    out = StringIO()
    call_command("create_api_token", username, stdout=out)
    return out.getvalue().split()[-1]


def _comment(stack, token: str, reference: str, text: str):
    return stack.request("POST", f"/api/v1/requests/{reference}/comments/", token=token,
                         body={"body": text}, timeout=60)


@pytest.mark.parametrize("fault", ["frozen", "stopped"])
def test_comments_answer_at_once_while_the_broker_is_out_and_their_notices_follow_once(
        org, submit, stack, redis_server, fault):
    # Given the site up on its own Redis, and a request of alice's waiting on hank
    request = submit()
    stack.start_web(workers=1, threads=4)
    token = _token("alice")

    # When the broker freezes (SIGSTOP) or stops, and alice comments three times
    if fault == "frozen":
        redis_server.freeze()
    else:
        redis_server.stop()
    answers = [_comment(stack, token, request.reference, f"Any news? ({n})") for n in range(3)]

    # Then each comment was saved and answered within 2 s
    assert [status for status, _body, _s in answers] == [201, 201, 201], answers
    assert max(seconds for _status, _body, seconds in answers) < 2.0, answers
    assert Comment.objects.filter(request=request).count() == 3
    notices = Notification.objects.filter(email_status=EmailStatus.PENDING)
    assert notices.count() >= 3
    # ...the work waits in the outbox, and the readiness check names the broker, in time
    assert OutboxTask.objects.count() == 3
    status, body, seconds = stack.request("GET", "/healthz/ready")
    assert status == 503 and body["failed"] == ["broker"], body
    assert seconds < 3.0
    assert stack.request("GET", "/healthz/live")[0] == 200

    # When the broker is back, with a worker, and the beat's dispatcher runs
    if fault == "frozen":
        redis_server.thaw()
    else:
        redis_server.start()
    wait_for(lambda: stack.get("/healthz/ready")[0] == 200, timeout=30, what="ready again")
    stack.start_worker()
    done = stack.run(DISPATCH)
    assert done.returncode == 0, done.stderr[-3000:]
    wait_for(lambda: not Notification.objects.filter(email_status=EmailStatus.PENDING).exists(),
             timeout=90, what="the notices to be e-mailed")

    # Then every notice went out exactly once, also after the dispatcher published what had
    # waited (a row refused while the broker was out waits out its back-off first) and swept
    def drained() -> bool:
        again = stack.run(DISPATCH)
        assert again.returncode == 0, again.stderr[-3000:]
        return not OutboxTask.objects.exists()
    wait_for(drained, timeout=60, what="the outbox to drain")
    sent = Notification.objects.filter(email_status=EmailStatus.SENT)
    assert sent.count() == notices.model.objects.count()
    assert set(sent.values_list("attempts", flat=True)) == {1}
    assert len(stack.mails()) == sent.count()
