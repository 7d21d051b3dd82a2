from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running SRM as a service: the task outbox, health, metrics, logs, backups."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operations import wiring  # noqa: F401 - Celery signal receivers (request ids)
