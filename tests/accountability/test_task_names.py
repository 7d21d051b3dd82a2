"""Accountability's Celery tasks moved from ``governance``: the beat uses the new names, and
each task still answers to its old name for one release, so messages already queued run."""

from __future__ import annotations

import pytest
from django.conf import settings

from accountability.models import OpenWorkFigures
from accountability.services.legacy_import import RUN_TASK
from accountability.services.notifications import DELIVER_TASK
from accountability.tasks import LEGACY_NAMES
from srm.celery import app

OLD_NAMES = {
    "governance.tasks.flag_delays",
    "governance.tasks.deliver_notifications",
    "governance.tasks.send_digests",
    "governance.tasks.refresh_figures",
    "governance.tasks.refresh_open_work",
    "governance.tasks_plans.remind_overdue_retirements",
    "governance.tasks_plans.run_legacy_import",
}


def test_every_task_of_the_previous_release_is_still_registered_with_the_same_options():
    app.loader.import_default_modules()
    assert set(LEGACY_NAMES.values()) == OLD_NAMES
    for new, old in LEGACY_NAMES.items():
        assert new.startswith("accountability.tasks.")
        current, legacy = app.tasks[new], app.tasks[old]
        for option in ("acks_late", "soft_time_limit", "time_limit", "autoretry_for",
                       "max_retries"):
            assert getattr(legacy, option, None) == getattr(current, option, None), (old, option)


def test_the_beat_schedules_only_current_names():
    app.loader.import_default_modules()
    tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert not [name for name in tasks if name.startswith("governance.")]
    assert not [name for name in tasks if name not in app.tasks]


@pytest.mark.django_db
def test_a_task_called_by_its_old_name_does_the_work(org, submit):
    # Given a request waiting on its first step, and no figures counted yet
    submit()
    assert not OpenWorkFigures.objects.exists()

    # When the recount runs under the name it had in governance
    app.loader.import_default_modules()
    counted = app.tasks["governance.tasks.refresh_open_work"].apply().get()

    # Then the board's open work is counted, as the new name counts it
    assert counted > 0
    assert OpenWorkFigures.objects.filter(open_steps__gt=0).exists()
    assert app.tasks["accountability.tasks.refresh_open_work"].apply().get() == counted


def test_the_outbox_enqueues_a_task_that_exists():
    app.loader.import_default_modules()
    assert DELIVER_TASK in app.tasks
    assert RUN_TASK in app.tasks
