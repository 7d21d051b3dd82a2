"""Celery: one task policy for every task, found by autodiscovery, and every periodic run
expires."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from kit.tasks import MAX_RETRIES, POLICY, task
from srm.celery import app

APPS = ("accountability.", "approvals.", "kpis.", "requests_app.", "governance.", "operations.")


def _srm_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: t for name, t in app.tasks.items() if name.startswith(APPS)}


def test_every_task_follows_the_one_policy():
    tasks = _srm_tasks()
    assert len(tasks) >= 9
    for name, registered in tasks.items():
        assert registered.acks_late is True, name
        # A worker killed mid-task (OOM, kill -9) puts the task back, not into the void.
        assert registered.reject_on_worker_lost is True, name
        assert tuple(registered.autoretry_for) == POLICY["autoretry_for"], name
        assert registered.max_retries == MAX_RETRIES, name
        assert registered.soft_time_limit and registered.time_limit > registered.soft_time_limit


def test_the_policy_cannot_be_overridden_per_task():
    with pytest.raises(TypeError, match="one for all"):
        task(soft_time_limit=1, time_limit=2, max_retries=50)


def test_every_periodic_run_expires_and_names_a_registered_task():
    tasks = _srm_tasks()
    for key, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in tasks, key
        assert entry.get("options", {}).get("expires", 0) > 0, key


def test_tasks_are_found_by_autodiscovery_not_imported_at_start_up():
    # A fresh process: setting Django up registers no task (no apps.py imports a tasks
    # module); the worker's autodiscovery finds them all.
    script = textwrap.dedent("""
        import django
        django.setup()
        from srm.celery import app
        mine = lambda: sorted(n for n in app.tasks if not n.startswith("celery."))
        print(len(mine()))
        app.loader.import_default_modules()
        print(len(mine()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=settings.BASE_DIR, timeout=120,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "srm.settings"})
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = (int(line) for line in done.stdout.split())
    assert before == 0
    assert after == len(_srm_tasks())
