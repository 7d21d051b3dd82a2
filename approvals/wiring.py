"""What approvals adds to the rest of SRM at start-up (``ApprovalsConfig.ready``): its
subscriptions to the organisation's domain events (open steps follow a head change and a
leaver), and the
Approvals and Work entries of the navigation, with their counts."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from approvals.models import Delegation, Step
from approvals.roles import forget_roles
from approvals.selectors import capabilities, waiting_for
from approvals.services.reassign import (
    on_department_head_changed,
    on_user_deactivated,
    on_user_moved,
)
from governance.models import Department, Membership, User
from governance.signals import department_head_changed, user_deactivated, user_moved
from kit.navigation import NAV, NavEntry


def connect() -> None:
    # Who decides is the organisation as it is now: a new head takes over the open steps.
    department_head_changed.connect(on_department_head_changed,
                                    dispatch_uid="approvals.steps_follow_head")
    # A leaver's open steps go to who stands in for them, the work they had taken on goes
    # back to its queue; their delegations end.
    user_deactivated.connect(on_user_deactivated, dispatch_uid="approvals.steps_leave")
    # A person who moves leaves the old department's queue: what they had taken on goes back.
    user_moved.connect(on_user_moved, dispatch_uid="approvals.steps_release")
    # The role ids an HTTP request remembers for its rules are read again after a change to
    # them in this process (a delegation given, a membership or a head changed).
    for model in (Membership, Department, Delegation, User):
        for signal in (post_save, post_delete):
            signal.connect(forget_roles, sender=model,
                           dispatch_uid=f"approvals.roles_{model.__name__}_{signal is post_save}")
    NAV.append(NavEntry(
        label=_("Approvals"),
        url_name="approvals:inbox",
        visible=lambda user: capabilities(user).may_approve,
        count=waiting_for,
        count_label=_("waiting for your decision"),
        alert=True,
        order=20,
    ))
    # Offered only to people with approvals of their own to hand over while away.
    NAV.append(NavEntry(
        label=_("Delegations"),
        url_name="approvals:delegations",
        visible=lambda user: capabilities(user).may_delegate,
        menu=True,
        order=20,
    ))
    NAV.append(NavEntry(
        label=_("Work"),
        url_name="work:queue",
        visible=lambda user: capabilities(user).agent,
        count=lambda user: Step.objects.restrict(user, "work"),
        count_label=_("work steps waiting"),
        order=30,
    ))
