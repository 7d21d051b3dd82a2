"""API fixtures: token clients for the demo people, and a small world of requests that
people see differently (see ``world``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.models import DelayRisk
from approvals.choices import StepState
from approvals.services import step_approve
from demo.organisation import seed_organisation
from governance.models import Department, User
from requests_app.models import CatalogItem
from requests_app.services import request_submit
from tests.factories import api_token

ROLES = ["anonymous", "alice", "bob", "hank", "irene", "ivan", "fiona", "olivia"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # DRF's throttles count in the cache: every test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(org):
    """``client_for("alice")``: an APIClient with alice's token; ``"anonymous"``: none."""

    def _client(username: str) -> APIClient:
        client = APIClient()
        if username != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(getattr(org, username))}")
        return client

    return _client


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Built once per test module inside a transaction that is rolled back at its end; every
    test runs in a savepoint inside it (pytest-django's ``db``), so tests stay independent."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_organisation()
        org = SimpleNamespace(
            **{u.username: u for u in User.objects.all()},
            dept={d.code: d for d in Department.objects.all()},
            item={i.code: i for i in CatalogItem.objects.select_related("fulfilling_department",
                                                                          "path")},
        )
        yield org, _build_world(org)
        transaction.set_rollback(True)


@pytest.fixture
def org(_world, db):
    return _world[0]


@pytest.fixture
def world(_world, db):
    """Three requests and two delay risks:

    - ``laptop``: alice's laptop over the finance threshold, waiting for hank (its path also
      has finance and IT steps, so fiona, irene and ivan see it; bob does not).
    - ``desk``: bob's desk move, fulfilled by Facilities (alice, irene, ivan, fiona don't see it).
    - ``access``: alice's system access, approved by hank, waiting in IT's work queue.
    """
    return _world[1]


def _build_world(org) -> SimpleNamespace:
    def submit(actor, item, cost, answers=None):
        return request_submit(actor=actor, item=org.item[item], estimated_cost=cost,
                              answers=answers or {"details": "For the new campaign team."})

    laptop = submit(org.alice, "laptop", "6000",
                    {"details": "For the new campaign team.", "model": "13-inch standard"})
    desk = submit(org.bob, "desk-move", "0")
    access = submit(org.alice, "access", "0", {"details": "CRM for the campaign", "system": "CRM"})
    step_approve(actor=org.hank, step=access.steps.get(state=StepState.ACTIVE))
    now = timezone.now()
    risks = {}
    for name, request in (("laptop", laptop), ("desk", desk)):
        step = request.steps.get(state=StepState.ACTIVE)
        risks[name] = DelayRisk.objects.create(
            step=step, request=request, department=step.accountable_department,
            head=step.accountable_head, detected_at=now - timedelta(hours=3), level=1,
            overdue_hours=Decimal("3"), cost_of_delay_per_day=request.item.cost_of_delay_per_day,
            day_seconds=8 * 3600, exposure=Decimal("56.25"), posted_until=now, refreshed_at=now,
        )
    return SimpleNamespace(
        laptop=laptop, desk=desk, access=access, risk=risks,
        laptop_step=laptop.steps.get(state=StepState.ACTIVE),
        access_step=access.steps.get(state=StepState.ACTIVE),
    )
