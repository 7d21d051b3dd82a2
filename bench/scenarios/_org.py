"""Who and what the scenarios act with, picked from the generated data set."""

from __future__ import annotations

import random

from django.db.models import Exists, OuterRef

from approvals.choices import StepKind, StepState
from approvals.models import Step
from governance.models import Department, User
from requests_app.models import CatalogItem


def requesters(count: int, seed: int = 3) -> list[User]:
    """People with a department who head none (their requests go to their head)."""
    heads = Department.objects.filter(head=OuterRef("pk"))
    people = list(
        User.objects.filter(department__isnull=False, is_ops_leader=False, is_superuser=False)
        .exclude(Exists(heads)).order_by("pk")[: count * 20]
    )
    return random.Random(seed).sample(people, min(count, len(people)))


def items() -> list[CatalogItem]:
    return list(CatalogItem.objects.filter(is_published=True)
                .select_related("fulfilling_department", "path").order_by("pk"))


def answers_for(item: CatalogItem) -> dict:
    answers = {}
    for spec in item.form_fields:
        if spec.get("required"):
            answers[spec["name"]] = {"choice": (spec.get("choices") or ["x"])[0],
                                     "integer": 1, "date": "2030-01-01",
                                     "email": "someone@example.com",
                                     "boolean": True}.get(spec["type"], "Needed for the team.")
    return answers


def approvable_steps(count: int) -> list[Step]:
    """Distinct active approval steps, each with the head who may decide it."""
    return list(
        Step.objects.filter(state=StepState.ACTIVE, kind=StepKind.APPROVAL,
                            accountable_head__isnull=False)
        .select_related("accountable_head").order_by("-id")[:count]
    )
