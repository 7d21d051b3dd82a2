from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        # Start-up: models can be imported only once the app registry is ready.
        from governance.wiring import connect

        connect()
