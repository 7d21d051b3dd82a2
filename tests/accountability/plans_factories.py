"""Factories for change-plan tests: a plan over the demo catalog."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accountability.models import ChangePlan, LegacyWorkflow


def make_plan(org, *, items=("laptop",), sponsor=None, go_live_in=14, **kwargs) -> ChangePlan:
    today = timezone.localdate()
    plan = ChangePlan.objects.create(
        name=kwargs.pop("name", "Laptops through SRM"),
        sponsor=sponsor or org.irene,
        go_live_on=today + timedelta(days=go_live_in),
        value_target_on=today + timedelta(days=go_live_in + 90),
        **kwargs,
    )
    plan.items.set([org.item[code] for code in items])
    return plan


def make_workflow(org, plan, *, retire_in=7, dept="MKT", **kwargs) -> LegacyWorkflow:
    return LegacyWorkflow.objects.create(
        plan=plan,
        name=kwargs.pop("name", "Laptop approvals by email"),
        channel=kwargs.pop("channel", "email"),
        owning_department=org.dept[dept],
        replaced_by=kwargs.pop("replaced_by", org.item["laptop"]),
        retire_by=timezone.localdate() + timedelta(days=retire_in),
        **kwargs,
    )
