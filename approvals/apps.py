from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals and execution"

    def ready(self) -> None:
        from approvals.models import Step
        from approvals.selectors import capabilities
        from srm.navigation import NAV, NavEntry

        NAV.append(NavEntry(
            label="Approvals",
            url_name="approvals:inbox",
            visible=lambda user: capabilities(user).may_approve,
            count=lambda user: Step.objects.restrict(user, "decide"),
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
