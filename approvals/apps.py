from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approvals and execution")

    def ready(self) -> None:
        # Start-up: models can be imported only once the app registry is ready.
        from approvals.wiring import connect

        connect()
