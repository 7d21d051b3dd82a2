"""Approval is the hottest write path after submission: its round trips are pinned."""

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from approvals.choices import StepState
from approvals.models import Step
from approvals.services import step_approve
from requests_app.models import ServiceRequest


def test_approving_a_step_that_hands_over_takes_a_fixed_handful_of_queries(
        org, submit, django_assert_max_num_queries):
    # Given a large purchase waiting for hank (head approval; finance, legal and two more
    # steps follow), content types cached as in a running server
    ContentType.objects.get_for_models(ServiceRequest, Step)
    request = submit(item="purchase", cost="30000", answers={"details": "Lab equipment."})
    head = request.steps.get(state=StepState.ACTIVE)

    # When hank approves: lock the request (with its requester and item) and all its steps
    # (with whether each has an open delay risk: this one has none, so no lookup), close the
    # step and write its audit event in one statement, tell alice while marking hank's
    # waiting notice read, hand over (the step, the request and their audit events in one
    # statement) and tell fiona (each notice with the e-mail preferences and its delivery
    # task in one statement): 6 statements and the savepoint around them (8 while each
    # change and its audit events were two statements, 20 before the lock read the whole
    # request, 15 before the notices were written in one statement each and the risk known
    # from the lock; SQLite writes the notices and the handoff as before: 14)
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 16):
        step_approve(actor=org.hank, step=head, comment="Within plan")

    # Then finance has it, and alice was told hank approved it
    finance = request.steps.get(state=StepState.ACTIVE)
    assert (finance.name, finance.accountable_head) == ("Finance approval", org.fiona)
    assert org.alice.notifications.filter(subject__contains="approved (1 of 3)").exists()

