"""Regenerate the README's screenshots (docs/screenshots/*.png) from the browser tests.

    .venv/bin/python scripts/screenshots.py            # SQLite test database
    DATABASE_URL=postgres://… .venv/bin/python scripts/screenshots.py

Runs tests/browser with SRM_DOCS_SCREENSHOTS=1: the tests' ``shot`` fixture then also saves
the chosen pages (DOCS_SHOTS in tests/browser/conftest.py) at 1280×800 into docs/screenshots/.
Every page at desktop and phone width still lands in test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    os.chdir(ROOT)
    os.environ["SRM_DOCS_SCREENSHOTS"] = "1"
    import pytest

    code = pytest.main(["tests/browser", "-m", "browser", "-q", *sys.argv[1:]])
    for png in sorted((ROOT / "docs" / "screenshots").glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KB")
    sys.exit(code)
