"""“More information needed”: the step waits for the requester with its clock stopped.

Alice's laptop request (1,200 EUR: head approval by Hank, then IT fulfilment) is submitted on
Friday 27 November 2026 at 09:00 Berlin time; the head approval's 8-hour OLA makes it due
that Friday at 17:00. Time is driven through the services' ``at=`` / ``now=`` parameters.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from approvals.choices import StepState
from approvals.models import Step, StepHold
from approvals.services import (
    holds_process_due,
    request_cancel,
    step_answer,
    step_approve,
    step_complete,
    step_hold,
)
from approvals.signals import hold_reminded, step_held, step_resumed
from governance.errors import Conflict, NotAllowed, ValidationFailed
from governance.models import AuditEvent
from requests_app.choices import RequestState
from requests_app.models import Comment

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


FRIDAY_9 = berlin(27, 9)
FRIDAY_15 = berlin(27, 15)
MONDAY_11 = berlin(30, 11)


@pytest.fixture
def laptop(org, submit):
    return submit(cost="1200", at=FRIDAY_9)


def active(request) -> Step:
    return request.steps.select_related("accountable_department").get(state=StepState.ACTIVE)


def verbs(request) -> list[str]:
    return list(AuditEvent.objects.filter(correlation=request.reference)
                .values_list("verb", flat=True))


def test_hold_over_the_weekend_moves_the_due_time_by_exactly_the_business_time_on_hold(
    org, laptop
):
    step = active(laptop)
    assert step.due_at == berlin(27, 17)
    request_due = laptop.due_at

    hold = step_hold(actor=org.hank, step=step, question="Which model do you need?", at=FRIDAY_15)
    step.refresh_from_db()
    assert step.on_hold_since == FRIDAY_15
    assert step.is_on_hold
    # While on hold the step is not overdue, even long after its due time.
    assert not Step.objects.overdue(now=berlin(30, 10)).filter(pk=step.pk).exists()

    step_answer(actor=org.alice, step=step, answer="The 13-inch one.", at=MONDAY_11)

    hold.refresh_from_db()
    step.refresh_from_db()
    laptop.refresh_from_db()
    # Friday 15:00–17:00 and Monday 09:00–11:00: four business hours, the weekend is free.
    assert hold.business_hours == Decimal("4.0000")
    assert (hold.answered_by, hold.answer) == (org.alice, "The 13-inch one.")
    assert step.on_hold_since is None
    # Two hours were left when Hank asked; two are left after Alice answers.
    assert step.due_at == berlin(30, 13)
    calendar = step.accountable_department.calendar
    assert calendar.between(berlin(27, 17), step.due_at) == timedelta(hours=4)
    assert calendar.between(request_due, laptop.due_at) == timedelta(hours=4)
    assert Step.objects.overdue(now=berlin(30, 13, 1)).filter(pk=step.pk).exists()
    assert verbs(laptop)[-2:] == ["step.held", "step.answered"]
    answered = AuditEvent.objects.get(correlation=laptop.reference, verb="step.answered")
    assert answered.actor == org.alice
    assert answered.data["business_hours"] == "4.0000"


def test_question_and_answer_appear_in_the_timeline(org, laptop):
    hold = step_hold(actor=org.hank, step=active(laptop), question="Which model?", at=FRIDAY_15)
    step_answer(actor=org.alice, hold=hold, answer="13-inch.", at=MONDAY_11)
    hold.refresh_from_db()
    timeline = list(Comment.objects.restrict(org.alice).filter(request=laptop))
    assert [(c.author, c.body) for c in timeline] == [
        (org.hank, "Which model?"), (org.alice, "13-inch."),
    ]
    assert (hold.question_comment, hold.answer_comment) == (timeline[0], timeline[1])


def test_only_the_decider_or_an_agent_asks_and_only_the_requester_answers(org, laptop):
    step = active(laptop)
    for outsider in (org.alice, org.bob, org.ivan, org.fiona):
        with pytest.raises(NotAllowed):
            step_hold(actor=outsider, step=step, question="?", at=FRIDAY_15)
    with pytest.raises(ValidationFailed):
        step_hold(actor=org.hank, step=step, question="   ", at=FRIDAY_15)
    hold = step_hold(actor=org.hank, step=step, question="Which model?", at=FRIDAY_15)
    with pytest.raises(Conflict, match="already waiting"):
        step_hold(actor=org.hank, step=step, question="And the colour?", at=FRIDAY_15)
    for not_requester in (org.hank, org.olivia, org.bob):
        with pytest.raises(NotAllowed):
            step_answer(actor=not_requester, hold=hold, answer="x", at=MONDAY_11)
    step_answer(actor=org.alice, hold=hold, answer="13-inch.", at=MONDAY_11)
    with pytest.raises(Conflict, match="no open question"):
        step_answer(actor=org.alice, step=step, answer="again", at=MONDAY_11)


def test_an_agent_puts_an_execution_step_on_hold(org, laptop):
    step_approve(actor=org.hank, step=active(laptop), at=FRIDAY_15)
    work = active(laptop)
    with pytest.raises(NotAllowed):
        step_hold(actor=org.fred, step=work, question="Where is your desk?", at=MONDAY_11)
    step_hold(actor=org.ivan, step=work, question="Where is your desk?", at=MONDAY_11)
    work.refresh_from_db()
    assert work.on_hold_since == MONDAY_11


def test_a_delegate_asks_for_the_head_and_the_audit_says_so(org, laptop):
    from django.utils import timezone

    from approvals.services import delegation_create

    today = timezone.localdate()
    delegation_create(actor=org.hank, delegate=org.bob, starts_on=today, ends_on=today)
    step_hold(actor=org.bob, step=active(laptop), question="Which model?", at=FRIDAY_15)
    event = AuditEvent.objects.get(correlation=laptop.reference, verb="step.held")
    assert (event.actor, event.on_behalf_of) == (org.bob, org.hank)
    assert event.data["question"] == "Which model?"


def test_reminder_after_two_business_days_once(org, laptop):
    step_hold(actor=org.hank, step=active(laptop), question="Which model?", at=FRIDAY_15)
    # Friday 2 h + Monday 8 h + Tuesday 6 h = 16 business hours: Tuesday 15:00.
    assert holds_process_due(now=berlin(1, 14, 59, month=12))["reminded"] == 0
    reminders = []
    hold_reminded.connect(lambda **kw: reminders.append(kw["hold"]), weak=False,
                          dispatch_uid="test-reminder")
    try:
        assert holds_process_due(now=berlin(1, 15, month=12))["reminded"] == 1
        assert holds_process_due(now=berlin(2, 9, month=12))["reminded"] == 0
    finally:
        hold_reminded.disconnect(dispatch_uid="test-reminder")
    assert len(reminders) == 1
    hold = StepHold.objects.get()
    assert hold.reminded_at == berlin(1, 15, month=12)
    event = AuditEvent.objects.get(correlation=laptop.reference, verb="step.hold_reminded")
    assert event.actor is None
    assert event.data["requester"] == "alice"


def test_unanswered_for_ten_business_days_cancels_the_request_with_a_clear_message(org, laptop):
    step = active(laptop)
    step_hold(actor=org.hank, step=step, question="Which model?", at=FRIDAY_15)
    # Ten business days after Friday 15:00 (no public holiday in between): Friday 11 December.
    assert holds_process_due(now=berlin(11, 14, 59, month=12))["expired"] == 0
    outcome = holds_process_due(now=berlin(11, 15, month=12))
    assert outcome["expired"] == 1

    laptop.refresh_from_db()
    step.refresh_from_db()
    hold = StepHold.objects.get()
    assert laptop.state == RequestState.CANCELLED
    assert step.state == StepState.CANCELLED
    assert step.on_hold_since is None
    assert hold.cancelled_at == berlin(11, 15, month=12)
    assert hold.business_hours == Decimal("80.0000")
    message = Comment.objects.filter(request=laptop, author=None).get().body
    assert "was not answered within 10 business days" in message
    assert "Hank Hughes's question" in message
    assert step.comment == message
    assert verbs(laptop)[-3:] == ["step.hold_expired", "step.cancelled", "request.cancelled"]
    # Running again changes nothing.
    assert holds_process_due(now=berlin(14, 9, month=12))["expired"] == 0


def test_deciding_while_on_hold_ends_the_hold(org, laptop):
    step = active(laptop)
    step_hold(actor=org.hank, step=step, question="Which model?", at=FRIDAY_15)
    step_approve(actor=org.hank, step=step, comment="Fine anyway", at=MONDAY_11)
    step.refresh_from_db()
    hold = StepHold.objects.get()
    assert step.state == StepState.APPROVED and step.on_hold_since is None
    assert hold.cancelled_at == MONDAY_11 and hold.business_hours == Decimal("4.0000")
    assert holds_process_due(now=berlin(31, 9, month=12)) == {
        "expired": 0, "reminded": 0, "skipped": 0, "failed": 0,
    }


def test_cancelling_the_request_while_on_hold_ends_the_hold(org, laptop):
    step_hold(actor=org.hank, step=active(laptop), question="Which model?", at=FRIDAY_15)
    request_cancel(actor=org.alice, request=laptop, reason="Got one", at=MONDAY_11)
    assert not StepHold.objects.open().exists()


def test_signals_tell_the_requester_and_the_asker(org, laptop):
    seen = []
    step_held.connect(lambda **kw: seen.append(("held", kw["hold"].question)), weak=False,
                      dispatch_uid="t-held")
    step_resumed.connect(lambda **kw: seen.append(("resumed", kw["hold"].answer)), weak=False,
                         dispatch_uid="t-resumed")
    try:
        hold = step_hold(actor=org.hank, step=active(laptop), question="Q?", at=FRIDAY_15)
        step_answer(actor=org.alice, hold=hold, answer="A.", at=MONDAY_11)
    finally:
        step_held.disconnect(dispatch_uid="t-held")
        step_resumed.disconnect(dispatch_uid="t-resumed")
    assert seen == [("held", "Q?"), ("resumed", "A.")]


def test_the_work_step_completes_normally_after_an_answer(org, laptop):
    step_approve(actor=org.hank, step=active(laptop), at=FRIDAY_15)
    work = active(laptop)
    hold = step_hold(actor=org.ivan, step=work, question="Desk?", at=MONDAY_11)
    step_answer(actor=org.alice, hold=hold, answer="4.12", at=berlin(30, 12))
    step_complete(actor=org.ivan, step=work, at=berlin(30, 13))
    laptop.refresh_from_db()
    assert laptop.state == RequestState.FULFILLED


def test_the_beat_job_runs_the_hold_scan(org, submit, settings):
    from approvals.tasks import process_holds

    assert settings.CELERY_BEAT_SCHEDULE["process-step-holds"]["task"] == process_holds.name
    old = submit(cost="1200", at=berlin(1, 9, month=10))
    step_hold(actor=org.hank, step=active(old), question="Still needed?", at=berlin(1, 10, month=10))
    assert process_holds.apply().get() == {"expired": 1, "reminded": 0, "skipped": 0, "failed": 0}
    old.refresh_from_db()
    assert old.state == RequestState.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_answer_racing_the_expiry_ends_the_hold_exactly_once(org, submit):
    import threading

    from django.db import connections

    from approvals.services import hold_expire
    from governance.models import User

    request = submit(cost="1200", at=FRIDAY_9)
    hold = step_hold(actor=org.hank, step=active(request), question="Q?", at=FRIDAY_15)
    late = berlin(11, 15, month=12)
    barrier = threading.Barrier(2)
    outcomes = []

    def answer():
        try:
            alice = User.objects.get(username="alice")
            barrier.wait(timeout=10)
            step_answer(actor=alice, hold=hold, answer="Sorry, here it is.", at=late)
            outcomes.append("answered")
        except Conflict:
            outcomes.append("too late")
        finally:
            connections.close_all()

    def expire():
        try:
            barrier.wait(timeout=10)
            outcomes.append("expired" if hold_expire(hold=hold.pk, at=late) else "nothing to do")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer), threading.Thread(target=expire)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) in (["answered", "nothing to do"], ["expired", "too late"])
    hold.refresh_from_db()
    request.refresh_from_db()
    if "answered" in outcomes:
        assert hold.answered_at and not hold.cancelled_at and request.is_open
    else:
        assert hold.cancelled_at and not hold.answered_at
        assert request.state == RequestState.CANCELLED
