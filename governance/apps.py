from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from governance import tasks_plans  # noqa: F401  (registers the change-plan tasks)
        from srm.navigation import NAV, NavEntry

        NAV.append(NavEntry(label="Change plans", url_name="plans:list",
                            visible=_sees_plans))


def _sees_plans(user) -> bool:
    from governance.models import ChangePlan

    return user.is_ops_leader or user.is_superuser or ChangePlan.objects.restrict(user).exists()
