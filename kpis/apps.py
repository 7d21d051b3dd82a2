from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "Outcome KPIs"

    def ready(self) -> None:
        from srm.navigation import NAV, NavEntry

        NAV.append(NavEntry("KPIs", "kpis:list"))
