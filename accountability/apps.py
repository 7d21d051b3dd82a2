from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = "Accountability"

    def ready(self) -> None:
        from accountability.scope import may_see_accountability
        from accountability.services import notices
        from accountability.services.risks import on_step_closed
        from approvals.signals import (
            comment_added,
            hold_reminded,
            step_closed,
            step_held,
            step_resumed,
        )
        from srm.navigation import NAV, NavEntry

        # A closing step resolves its open delay risk in the same transaction.
        step_closed.connect(on_step_closed, dispatch_uid="accountability.resolve_delay_risk")
        # A request's conversation reaches people through the notification outbox.
        step_held.connect(notices.on_step_held, dispatch_uid="accountability.notice_held")
        hold_reminded.connect(notices.on_hold_reminded, dispatch_uid="accountability.notice_reminded")
        step_resumed.connect(notices.on_step_resumed, dispatch_uid="accountability.notice_resumed")
        comment_added.connect(notices.on_comment_added, dispatch_uid="accountability.notice_comment")

        if not any(entry.url_name == "notifications:list" for entry in NAV):
            NAV.append(NavEntry(
                label="Notifications",
                url_name="notifications:list",
                count=_unread_count,
                count_label="unread",
                alert=True,
            ))
        NAV.append(NavEntry("Dashboard", "dashboard:board", visible=may_see_accountability))
        NAV.append(NavEntry("Reports", "reports:quarterly", visible=may_see_accountability))
        NAV.append(NavEntry(label="Change plans", url_name="plans:list", visible=_sees_plans))


def _unread_count(user):
    """The unread notifications (the navigation counts them with the other badges)."""
    from accountability.models import Notification

    return Notification.objects.restrict(user).unread()


def _sees_plans(user) -> bool:
    from accountability.models import ChangePlan

    return user.is_ops_leader or user.is_superuser or ChangePlan.objects.restrict(user).exists()
