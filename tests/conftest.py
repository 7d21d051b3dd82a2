"""Shared fixtures. ``org`` is the demo organisation (see demo/organisation.py): the same
people and paths a user meets in ``make run``, so tests read like the product."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

from demo.organisation import seed_organisation
from governance.models import Department, User
from requests_app.models import CatalogItem


@pytest.fixture
def org(db):
    seed_organisation()
    users = {u.username: u for u in User.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    items = {i.code: i for i in CatalogItem.objects.select_related("fulfilling_department", "path")}
    return SimpleNamespace(**users, dept=departments, item=items)


@pytest.fixture
def submit(org):
    """Submit a request as someone, with sensible answers for the item."""
    from requests_app.services import request_submit

    def _submit(*, actor=None, item="laptop", cost="1200", answers=None, **kwargs):
        item_obj = org.item[item]
        if answers is None:
            answers = {"details": "For the new campaign team."}
            if item == "laptop":
                answers["model"] = "13-inch standard"
        return request_submit(
            actor=actor or org.alice, item=item_obj, answers=answers,
            estimated_cost=Decimal(cost) if cost is not None else None, **kwargs,
        )

    return _submit


def needs_postgres():
    return pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)"
    )
