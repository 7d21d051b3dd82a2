"""The benchmark data set: bulk-loaded, but as consistent as if the services had written it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from accountability.models import DelayRisk
from approvals.choices import StepState
from approvals.models import Step
from demo.load import FastCalendar, generate
from governance.calendar import BusinessCalendar
from governance.models import AuditEvent, Department, User
from requests_app.choices import OPEN_STATES, RequestState
from requests_app.models import CatalogItem, ServiceRequest
from requests_app.services import request_submit

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_fast_calendar_gives_the_same_due_times_and_spans_as_the_business_calendar():
    # Given the default calendar (Berlin hours, German holidays) and its precomputed twin
    calendar = BusinessCalendar(timezone="Europe/Berlin", country="DE")
    fast = FastCalendar(calendar, date(2025, 12, 1), date(2026, 12, 31))
    rng = random.Random(3)
    for _ in range(300):
        start = datetime(2025, 12, 15, tzinfo=UTC) + timedelta(seconds=rng.randrange(200 * 86400))
        hours = rng.choice([0.25, 4, 8, 16, 24, 40, 80])
        end = start + timedelta(seconds=rng.randrange(30 * 86400))
        # When adding an OLA or measuring an overdue span, then both agree to the second
        assert fast.add(int(start.timestamp()), hours) == int(calendar.add(start, hours).timestamp())
        assert fast.between(int(start.timestamp()), int(end.timestamp())) == int(
            calendar.between(start, end).total_seconds())


@pytest.mark.django_db(transaction=True)
def test_generated_data_set_is_consistent_and_the_app_can_keep_submitting():
    # Given a small generated organisation and 400 requests
    counts = generate(requests=400, seed=5, people=600, now=NOW)

    # Then the requests, their steps and their history hang together
    assert ServiceRequest.objects.count() == counts["requests"] == 400
    assert Department.objects.count() == 200
    assert User.objects.count() >= 600
    states = dict(ServiceRequest.objects.values_list("state").annotate(n=Count("id")))
    assert states.get(RequestState.FULFILLED, 0) > 200
    assert states.get(RequestState.IN_APPROVAL, 0) + states.get(RequestState.IN_PROGRESS, 0) > 20
    assert states.get(RequestState.REJECTED, 0) + states.get(RequestState.CANCELLED, 0) > 0
    open_requests = ServiceRequest.objects.filter(state__in=OPEN_STATES)
    assert not open_requests.exclude(current_step__state=StepState.ACTIVE).exists()
    assert not open_requests.exclude(current_step__request=F("pk")).exists()
    closed = ServiceRequest.objects.exclude(state__in=OPEN_STATES)
    assert not closed.filter(Q(closed_at__isnull=True) | Q(steps__state=StepState.ACTIVE)).exists()
    assert not closed.filter(steps__state=StepState.PENDING).exists()
    assert Step.objects.filter(state=StepState.ACTIVE).count() == open_requests.count()
    assert not Step.objects.filter(completed_at__lt=F("activated_at")).exists()
    # Every overdue active step carries exactly one open delay risk against its head
    overdue = Step.objects.filter(state=StepState.ACTIVE, due_at__lt=NOW)
    assert DelayRisk.objects.filter(resolved_at__isnull=True).count() == overdue.count()
    assert not overdue.exclude(delay_risks__resolved_at__isnull=True,
                               delay_risks__head=F("accountable_head")).exists()
    # Every submission and every step activation left its audit event
    assert AuditEvent.objects.filter(verb="request.submitted").count() == 400
    assert AuditEvent.objects.filter(verb="step.activated").count() == Step.objects.filter(
        activated_at__isnull=False).count()

    # When someone submits through the real service afterwards
    requester = User.objects.filter(department__isnull=False, headed_departments=None,
                                    is_ops_leader=False).order_by("pk").first()
    item = CatalogItem.objects.order_by("pk").first()
    request = request_submit(actor=requester, item=item, answers={"details": "More."},
                             estimated_cost=Decimal("100"))

    # Then its reference and ids continue after the generated ones
    year = request.reference.split("-")[1]
    last = ServiceRequest.objects.filter(reference__startswith=f"SR-{year}-").exclude(
        pk=request.pk).order_by("-reference").values_list("reference", flat=True).first()
    assert last is None or request.reference > last
    assert request.pk > 400


@pytest.mark.django_db(transaction=True)
def test_generate_load_refuses_a_database_that_already_holds_a_data_set():
    # Given a generated data set
    call_command("generate_load", requests=10, people=300, verbosity=0)

    # When it is run again on the same database, then it says why it will not
    with pytest.raises(CommandError, match="freshly migrated"):
        call_command("generate_load", requests=10, people=300, verbosity=0)
    assert ServiceRequest.objects.count() == 10
