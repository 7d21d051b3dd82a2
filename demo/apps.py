from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for ``make run`` and the browser tests. It sits above every other app."""

    name = "demo"
    verbose_name = "Demo data"
