"""What accountability hooks into the rest of SRM at start-up (``AccountabilityConfig.ready``):
its subscriptions to the lifecycle's domain events and its entries in the navigation.

The lifecycle never imports accountability; it sends the events of ``approvals.signals``
(docs/architecture.md) and these receivers act on them inside the sender's transaction.
"""

from __future__ import annotations

from anymail.signals import inbound
from django.utils.translation import gettext_lazy

from accountability import monitoring
from accountability.budget_report import budget_card_facts
from accountability.mailin import webhook
from accountability.models import ChangePlan, Notification
from accountability.scope import may_see_accountability
from accountability.services import budgets, lifecycle_notices, notices
from accountability.services.risks import (
    OPEN_RISK,
    on_calendar_corrected,
    on_step_closed,
    on_steps_reassigned,
    open_delay_risk,
)
from approvals.cards import register_card_facts
from approvals.conditions import register_budget_probe
from approvals.services.steps import register_lock_fact
from approvals.signals import (
    comment_added,
    hold_reminded,
    request_approved,
    request_closed,
    request_submitted,
    step_closed,
    step_handed_over,
    step_held,
    step_resumed,
    steps_reassigned,
    steps_released,
)
from governance.signals import calendar_corrected
from kit.navigation import NAV, NavEntry


def connect() -> None:
    # The operator's view of the delay scan, open risks and imports (metrics, /healthz/jobs).
    monitoring.connect()
    # A closing step resolves its open delay risk in the same transaction.
    step_closed.connect(on_step_closed, dispatch_uid="accountability.resolve_delay_risk")
    register_lock_fact(OPEN_RISK, open_delay_risk)  # read with the step's lock: no lookup
    # A corrected business calendar measures posted delay time again.
    calendar_corrected.connect(on_calendar_corrected,
                               dispatch_uid="accountability.calendar_corrected")
    # A request's conversation reaches people through the notification outbox.
    step_held.connect(notices.on_step_held, dispatch_uid="accountability.notice_held")
    hold_reminded.connect(notices.on_hold_reminded, dispatch_uid="accountability.notice_reminded")
    step_resumed.connect(notices.on_step_resumed, dispatch_uid="accountability.notice_resumed")
    comment_added.connect(notices.on_comment_added, dispatch_uid="accountability.notice_comment")
    # Its lifecycle reaches the requester, and the next decider, the same way.
    request_submitted.connect(lifecycle_notices.on_request_submitted,
                              dispatch_uid="accountability.notice_submitted")
    step_handed_over.connect(lifecycle_notices.on_step_handed_over,
                             dispatch_uid="accountability.notice_waiting")
    step_closed.connect(lifecycle_notices.on_step_closed,
                        dispatch_uid="accountability.notice_step_closed")
    request_closed.connect(lifecycle_notices.on_request_closed,
                           dispatch_uid="accountability.notice_closed")
    # Budgets: the last approval commits the estimated cost (or is refused over budget);
    # fulfilment posts the actual cost, every close releases the commitment; a path's budget
    # condition asks the remaining budget.
    request_approved.connect(budgets.on_request_approved, dispatch_uid="accountability.commit")
    request_closed.connect(budgets.on_request_closed, dispatch_uid="accountability.release")
    register_budget_probe(budgets.budget_below_reserve)
    register_card_facts("budget", budget_card_facts)
    # Open steps that move to a new accountable head: their delay is charged to the new
    # head from the moment of the change, and the new head is told.
    steps_reassigned.connect(on_steps_reassigned, dispatch_uid="accountability.risks_reattribute")
    steps_reassigned.connect(lifecycle_notices.on_steps_reassigned,
                             dispatch_uid="accountability.notice_reassigned")
    # Work an agent who moved or left had taken on is back in the queue: its head is told.
    steps_released.connect(lifecycle_notices.on_steps_released,
                           dispatch_uid="accountability.notice_released")

    # Replies to approval e-mails that a provider POSTs (Mailgun, through django-anymail).
    inbound.connect(webhook.on_inbound, dispatch_uid="accountability.inbound_mail")

    if not any(entry.url_name == "notifications:list" for entry in NAV):
        NAV.append(NavEntry(
            label=gettext_lazy("Notifications"),
            url_name="notifications:list",
            count=_unread_count,
            count_label=gettext_lazy("unread"),
            alert=True,
        ))
    NAV.append(NavEntry(gettext_lazy("Dashboard"), "dashboard:board", visible=may_see_accountability))
    NAV.append(NavEntry(gettext_lazy("Reports"), "reports:quarterly", visible=may_see_accountability))
    # Heads, deputies and ops leaders (the check the other entries already made, cached);
    # finance approvers who lead no department open /reports/budgets/ directly.
    NAV.append(NavEntry(gettext_lazy("Budgets"), "reports:budgets",
                        visible=may_see_accountability))
    NAV.append(NavEntry(label=gettext_lazy("Change plans"), url_name="plans:list", visible=_sees_plans))


def _unread_count(user):
    """The unread notifications (the navigation counts them with the other badges)."""
    return Notification.objects.restrict(user).unread()


def _sees_plans(user):
    """Ops leaders and superusers; anyone else when the change plan rule shows them a plan
    (the navigation asks that in its badges' statement)."""
    return user.is_ops_leader or user.is_superuser or ChangePlan.objects.restrict(user)
