"""A test that needs PostgreSQL or Redis is skipped where the server is missing, except under
CI=true, where it fails: CI runs every test (tests/conftest.py, ``missing_service``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
NEEDS_POSTGRES = "tests/governance/test_audit.py::test_the_database_refuses_to_rewrite_history"


def _run_on_sqlite(*, ci: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(CI=ci, REDIS_URL="redis://127.0.0.1:1/0")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", NEEDS_POSTGRES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_a_missing_postgres_skips_on_a_laptop_and_fails_under_ci():
    laptop = _run_on_sqlite(ci="")
    assert laptop.returncode == 0, laptop.stdout[-2000:]
    assert "1 skipped" in laptop.stdout

    ci = _run_on_sqlite(ci="true")
    assert ci.returncode == 1, ci.stdout[-2000:]
    assert "needs PostgreSQL" in ci.stdout and "CI=true runs every test" in ci.stdout


def test_every_service_skip_goes_through_the_one_helper():
    # Markers only: a hand-written skip on the database vendor or Redis would pass silently
    # in CI.
    pattern = re.compile(r"skipif\([^)]*(vendor|redis)|pytest\.skip\([^)]*(PostgreSQL|Redis)",
                         re.IGNORECASE)
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("*.py")
                 if path.name != "test_ci_services.py" and pattern.search(path.read_text())]
    assert offenders == []
