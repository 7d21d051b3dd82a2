from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kit.navigation import NAV, NavEntry


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = _("Outcome KPIs")

    def ready(self) -> None:
        NAV.append(NavEntry(_("KPIs"), "kpis:list"))
