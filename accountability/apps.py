from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "accountability"
    verbose_name = "Accountability"

    def ready(self) -> None:
        # Start-up: models can be imported only once the app registry is ready.
        from accountability.wiring import connect

        connect()
