"""The Celery application. The beat schedule lives in ``srm.settings.CELERY_BEAT_SCHEDULE``."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "srm.settings")

app = Celery("srm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _configure_logging(**_kwargs) -> None:
    """The worker and beat log as every SRM process does (``operations.logs.logging_config``,
    Django's ``LOGGING``): Celery sets up no handler or format of its own."""
    logging.config.dictConfig(settings.LOGGING)
