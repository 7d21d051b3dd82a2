"""The task outbox: work a change asks for is written in the change's transaction, so it
commits or rolls back with it, and is published afterwards without the request waiting on
the broker; what the broker refused waits, with a back-off, for the dispatcher."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from operations import outbox
from operations.models import OutboxTask

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "operations.tasks.heartbeat"


def _published():
    return mock.patch("operations.broker.current_app.send_task")


def test_a_rolled_back_change_sends_nothing():
    with _published() as send, pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(TASK, args=[1])
        raise RuntimeError("the change failed")
    assert not OutboxTask.objects.exists()
    send.assert_not_called()


def test_a_committed_change_publishes_its_task_once_and_clears_the_row():
    with _published() as send, transaction.atomic():
        outbox.enqueue(TASK, args=[7], kwargs={"x": 1})
        send.assert_not_called()  # nothing before the commit
    assert send.call_count == 1
    assert send.call_args.args == (TASK,)
    assert send.call_args.kwargs["args"] == [7] and send.call_args.kwargs["kwargs"] == {"x": 1}
    assert not OutboxTask.objects.exists()


def test_a_refused_publish_waits_with_a_back_off_for_the_dispatcher():
    # Given a broker that refuses
    with mock.patch("operations.broker.current_app.send_task",
                    side_effect=ConnectionRefusedError("down")), transaction.atomic():
        outbox.enqueue(TASK)

    # Then the task waits, counted, for later
    row = OutboxTask.objects.get()
    assert row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    assert row.available_at > timezone.now()

    # ...the dispatcher leaves it alone until then, and publishes it afterwards
    with _published() as send:
        assert outbox.outbox_dispatch().published == 0
        send.assert_not_called()
        OutboxTask.objects.update(available_at=timezone.now() - timedelta(seconds=1))
        assert outbox.outbox_dispatch().published == 1
    assert not OutboxTask.objects.exists()


def test_one_dispatcher_run_drains_more_than_a_batch():
    OutboxTask.objects.bulk_create([OutboxTask(task=TASK, args=[n])
                                    for n in range(outbox.BATCH * 2 + 5)])
    with _published() as send:
        result = outbox.outbox_dispatch()
    assert result.published == outbox.BATCH * 2 + 5 == send.call_count
    assert [c.kwargs["args"][0] for c in send.call_args_list] == list(range(outbox.BATCH * 2 + 5))
    assert outbox.backlog() == (0, None)


def test_a_broker_failing_mid_batch_keeps_only_what_it_did_not_take():
    OutboxTask.objects.bulk_create([OutboxTask(task=TASK, args=[n]) for n in range(5)])
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise TimeoutError("frozen")

    with mock.patch("operations.broker.current_app.send_task", side_effect=flaky):
        result = outbox.outbox_dispatch()
    assert (result.published, result.failed) == (2, 3)
    assert sorted(r.args[0] for r in OutboxTask.objects.all()) == [2, 3, 4]
