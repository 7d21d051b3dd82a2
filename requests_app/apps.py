from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Service requests"

    def ready(self) -> None:
        # Start-up: models can be imported only once the app registry is ready.
        from requests_app.wiring import connect

        connect()
