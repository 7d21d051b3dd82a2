"""What approvals adds to the rest of SRM at start-up (``ApprovalsConfig.ready``): the
Approvals and Work entries of the navigation, with their counts."""

from __future__ import annotations

from approvals.models import Step
from approvals.selectors import capabilities, waiting_for
from kit.navigation import NAV, NavEntry


def connect() -> None:
    NAV.append(NavEntry(
        label="Approvals",
        url_name="approvals:inbox",
        visible=lambda user: capabilities(user).may_approve,
        count=waiting_for,
        count_label="waiting for your decision",
        alert=True,
        order=20,
    ))
    NAV.append(NavEntry(
        label="Work",
        url_name="work:queue",
        visible=lambda user: capabilities(user).agent,
        count=lambda user: Step.objects.restrict(user, "work"),
        count_label="work steps waiting",
        order=30,
    ))
