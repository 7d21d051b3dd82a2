from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        # Start-up: models can be imported only once the app registry is ready.
        from requests_app.wiring import connect

        connect()
