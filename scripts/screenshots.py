"""Regenerate the README's screenshots (docs/screenshots/*.png) from the demo.

    .venv/bin/python scripts/screenshots.py

Seeds the demo (``seed_demo``, as ``make run`` does) into a throw-away SQLite database in a
temporary folder, starts the web server there with DEBUG off on a free port, signs in as the
demo people with Playwright driving Debian's Chromium (/usr/bin/chromium, ``make browsers``)
and saves each page at 1280×800 (and the inbox at 390×844, a phone) into docs/screenshots/.
Nothing of the repository's var/ is touched. The pictures show the demo as it is on the day they are taken.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PYTHON = sys.executable

# (file name, who, where); "{fulfilled}" is a request of alice's that was fulfilled; "{head}"
# the head with the most approvals waiting (whose inbox shows what it is for).
SHOTS = [
    ("inbox", "{head}", "/approvals/"),
    ("catalog", "alice", "/portal/"),
    ("my-requests", "alice", "/portal/requests/"),
    ("request-fulfilled", "alice", "/portal/requests/{fulfilled}/"),
    ("work-queue", "ivan", "/work/"),
    ("board", "olivia", "/dashboard/"),
    ("department", "irene", "/dashboard/departments/IT/"),
    ("report", "olivia", "/reports/"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def _wait(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"The web server did not answer at {url}")


def _sign_in(browser, base: str, username: str):
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB",
                                  timezone_id="Europe/Berlin")
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def _take(browser, base: str, fulfilled: str, head: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for name, username, path in SHOTS:
        username = username.format(head=head)
        page = _sign_in(browser, base, username)
        page.goto(base + path.format(fulfilled=fulfilled))
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(DOCS / f"{name}.png"))
        page.context.close()
        print(f"docs/screenshots/{name}.png  {username} {path}")
    # A submission the form refuses, with what it says.
    page = _sign_in(browser, base, "alice")
    page.goto(f"{base}/portal/new/laptop/")
    page.get_by_label("Short title").fill("Laptop for the trade fair")
    page.get_by_label("Estimated cost (EUR)").fill("about two thousand")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(DOCS / "submit-errors.png"))
    page.context.close()
    print("docs/screenshots/submit-errors.png  alice /portal/new/laptop/")
    # A phone: the head's inbox at 390 px with the navigation's menu open.
    page = _sign_in(browser, base, head)
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/approvals/")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Menu").click()
    page.screenshot(path=str(DOCS / "phone-inbox.png"))
    page.context.close()
    print(f"docs/screenshots/phone-inbox.png  {head} /approvals/ (390 px, menu open)")


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="srm-screenshots-") as var:
        port = _free_port()
        env = {key: value for key, value in os.environ.items()
               if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                              "CACHE_URL"}}
        env.update(SRM_VAR_DIR=var, DEBUG="0", HTTPS="0", PORT=str(port),
                   SRM_BASE_URL=f"http://127.0.0.1:{port}", GUNICORN_LOG_LEVEL="WARNING",
                   SRM_ACCESS_LOG_LEVEL="WARNING")
        print("Seeding the demo into a temporary database...")
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        print(_manage(env, "seed_demo", "--no-logins").strip())
        fulfilled, head = _manage(env, "shell", "-c", (
            "from django.db.models import Count\n"
            "from approvals.models import Step\n"
            "from requests_app.models import ServiceRequest as R\n"
            "print(R.objects.filter(requester__username='alice', state='fulfilled')"
            ".order_by('-closed_at').values_list('reference', flat=True).first())\n"
            "print(Step.objects.filter(state='active', kind='approval')"
            ".values('accountable_head__username').annotate(n=Count('pk')).order_by('-n')"
            ".values_list('accountable_head__username', flat=True).first() or 'hank')"
        )).strip().splitlines()[-2:]
        web = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "srm.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2"], cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/healthz/live")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                    "--no-sandbox", "--disable-gpu", "--no-first-run"])
                try:
                    _take(browser, base, fulfilled, head)
                finally:
                    browser.close()
        finally:
            web.terminate()
            web.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
