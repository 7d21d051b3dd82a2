"""The layers of docs/architecture.md hold: the import contract in pyproject.toml is kept,
and no module imports SRM code inside a function except for the start-up reasons listed
here (and in docs/architecture.md, "Imports inside functions")."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("accountability", "approvals", "bench", "demo", "governance", "kit", "kpis",
            "requests_app", "srm")

# (file, function, imported module): why it cannot be at the top of the module.
READY = "AppConfig.ready(): models can be imported only once the app registry is populated"
BENCH_SCRIPT = "a benchmark script that runs before it sets Django up (django.setup())"
ALLOWED = {
    ("accountability/apps.py", "ready", "accountability.wiring"): READY,
    ("approvals/apps.py", "ready", "approvals.wiring"): READY,
    ("governance/apps.py", "ready", "governance.wiring"): READY,
    ("requests_app/apps.py", "ready", "requests_app.wiring"): READY,
    **{("bench/scenarios/delay_scan.py", function, module): BENCH_SCRIPT
       for function, module in [
           ("_generate", "approvals.models"), ("_generate", "demo.organisation"),
           ("_generate", "governance.models"), ("_generate", "requests_app.models"),
           ("_naive_scan", "accountability.delays"), ("_naive_scan", "accountability.models"),
           ("_naive_scan", "approvals.models"), ("_naive_scan", "governance.services.audit"),
           ("_measure", "accountability.services.risks"),
       ]},
    **{("bench/scenarios/legacy_import.py", function, module): BENCH_SCRIPT
       for function, module in [
           ("_setup", "demo.organisation"),
           ("_import_child", "accountability.services.legacy_import"),
           ("_import_child", "requests_app.models"),
       ]},
    **{("bench/profile.py", function, module): BENCH_SCRIPT
       for function, module in [
           ("_service_calls", "approvals.services"), ("_service_calls", "bench.scenarios._org"),
           ("_service_calls", "requests_app.services"), ("main", "accountability.figures"),
           ("main", "bench.scenarios.http_load"),
       ]},
}


def function_level_imports() -> set[tuple[str, str, str]]:
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        modules = [node.module]
                    elif isinstance(node, ast.Import):
                        modules = [alias.name for alias in node.names]
                    else:
                        continue
                    for module in modules:
                        if module.split(".")[0] in PACKAGES:
                            found.add((str(path.relative_to(ROOT)), function.name, module))
    return found


def test_no_project_import_inside_a_function_except_the_documented_ones():
    found = function_level_imports()
    assert not found - ALLOWED.keys(), (
        "Import these at the top of the module; if a cycle stops you, the layers are wrong "
        "(send a domain event instead, docs/architecture.md)")
    assert not ALLOWED.keys() - found, "Gone: remove them from ALLOWED and the docs"
    documented = (ROOT / "docs" / "architecture.md").read_text()
    assert f"{len(ALLOWED)} imports inside functions" in documented


def test_the_import_contract_is_kept():
    lint = shutil.which("lint-imports", path=str(ROOT / ".venv" / "bin")) or "lint-imports"
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
    contract = (ROOT / "pyproject.toml").read_text()
    assert "ignore_imports" not in contract
