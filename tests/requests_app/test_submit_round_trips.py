"""Submission is the hottest write path: its round trips must not grow with the path."""

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from approvals.choices import StepState
from approvals.models import Step
from requests_app.models import ServiceRequest


def test_submitting_along_a_five_step_path_takes_a_fixed_handful_of_queries(
        org, submit, django_assert_max_num_queries):
    # Given the purchase path (head, finance, legal, purchasing, delivery: five departments)
    # and content types cached and this year's reference numbering started, as in a running
    # server
    ContentType.objects.get_for_models(ServiceRequest, Step)
    submit()

    # When alice submits a large purchase that needs every approval: the path's templates
    # with its departments and their heads, the reference with the request's and steps'
    # keys, the steps with the request (already at its first step) and the audit events,
    # and alice's and hank's notices with their e-mail preferences and delivery task: 4
    # statements and the savepoint around them (7 while the path, the steps, the request and
    # the audit events were read and written one by one, 10 before the notices and the
    # request were written at once; SQLite, which has no sequences to reserve keys from,
    # still writes them one by one: 10)
    with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 12):
        request = submit(item="purchase", cost="30000", answers={"details": "Lab equipment."})

    # Then all five steps exist, with their accountable heads, and the first is active
    steps = list(request.steps.order_by("order"))
    assert [s.accountable_head.username for s in steps] == ["hank", "fiona", "leo", "paula",
                                                            "paula"]
    assert steps[0].state == StepState.ACTIVE
    assert request.estimated_cost == Decimal("30000.00")
