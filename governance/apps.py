from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from governance.accountability.scope import may_see_accountability
        from srm.navigation import NAV, NavEntry

        NAV.append(NavEntry("Dashboard", "dashboard:board", visible=may_see_accountability))
        NAV.append(NavEntry("Reports", "reports:quarterly", visible=may_see_accountability))
