from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals and execution"

    def ready(self) -> None:
        # Start-up: models can be imported only once the app registry is ready.
        from approvals.wiring import connect

        connect()
