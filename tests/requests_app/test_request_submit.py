from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from approvals.choices import StepState
from governance.errors import ValidationFailed
from governance.models import AuditEvent
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest

BERLIN = ZoneInfo("Europe/Berlin")


def test_submission_materialises_the_path_and_activates_the_head(org, submit):
    request = submit(cost="6000")

    assert request.reference.startswith(f"SR-{request.submitted_at.year}-")
    assert len(request.reference.split("-")[-1]) == 6
    assert request.state == RequestState.IN_APPROVAL
    steps = list(request.steps.order_by("order"))
    assert [(s.name, s.state) for s in steps] == [
        ("Head approval", StepState.ACTIVE),
        ("Finance approval", StepState.PENDING),
        ("Fulfilment", StepState.PENDING),
    ]
    head_step = steps[0]
    assert head_step.accountable_department == org.dept["MKT"]
    assert head_step.accountable_head == org.hank
    assert request.current_step == head_step
    assert request.accountable_department == org.dept["MKT"]
    assert AuditEvent.objects.filter(correlation=request.reference, verb="request.submitted").count() == 1


@pytest.mark.parametrize(
    ("cost", "finance_state"),
    [("4999.99", StepState.SKIPPED), ("5000", StepState.PENDING), ("5000.01", StepState.PENDING)],
)
def test_finance_approval_only_at_or_over_the_threshold(submit, cost, finance_state):
    request = submit(cost=cost)
    assert request.steps.get(name="Finance approval").state == finance_state


def test_references_count_up_within_the_year(submit):
    first, second = submit(), submit()
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_due_time_uses_the_fulfilling_departments_business_hours(submit):
    # Friday 16:00 in Berlin; a laptop's target is 40 business hours = five working days.
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)
    request = submit(at=friday)
    assert request.due_at == datetime(2026, 12, 4, 16, 0, tzinfo=BERLIN)
    head_step = request.steps.get(name="Head approval")
    # 8 business hours: one on Friday, seven on Monday.
    assert head_step.due_at == datetime(2026, 11, 30, 16, 0, tzinfo=BERLIN)


def test_invalid_answers_are_all_reported_and_nothing_is_written(org, submit):
    before = ServiceRequest.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        submit(answers={"model": "Mainframe", "colour": "red"}, cost="-5")
    errors = caught.value.field_errors
    assert set(errors) == {"details", "model", "colour", "estimated_cost"}
    assert "required" in errors["details"][0]
    assert (ServiceRequest.objects.count(), AuditEvent.objects.count()) == before


def test_answers_are_stored_cleaned(org, submit):
    request = submit(
        item="software",
        answers={"details": "Design team", "product": "Figma", "seats": "12"},
        cost="900",
    )
    assert request.answers == {"details": "Design team", "product": "Figma", "seats": 12}
    assert request.estimated_cost == Decimal("900.00")


def test_unpublished_item_refuses_requests(org, submit):
    item = org.item["phone"]
    item.is_published = False
    item.save()
    with pytest.raises(ValidationFailed, match="not open for requests"):
        submit(item="phone")


def test_a_head_requesting_is_approved_one_level_up(org, submit):
    request = submit(actor=org.hank)
    head_step = request.steps.get(name="Head approval")
    assert head_step.accountable_department == org.dept["OPS"]
    assert head_step.accountable_head == org.oscar


def test_reference_numbers_continue_from_those_already_handed_out(db):
    from requests_app.models import RequestCounter

    RequestCounter.objects.create(year=2031, value=41)
    assert RequestCounter.next_values(2031) == [42]
    assert RequestCounter.next_values(2031, 3) == [43, 44, 45]
