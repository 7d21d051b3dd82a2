from django.apps import AppConfig

from kit.navigation import NAV, NavEntry


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "Outcome KPIs"

    def ready(self) -> None:
        NAV.append(NavEntry("KPIs", "kpis:list"))
