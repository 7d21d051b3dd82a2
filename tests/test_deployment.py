"""Deployment plumbing: docker-compose.yml, Procfiles, Makefile, vendored assets, check --deploy."""

import ipaddress
import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
VENDOR_FILES = ("htmx.min.js", "chart.umd.min.js", "pico.min.css")


@pytest.fixture(scope="module")
def compose() -> dict:
    with (ROOT / "docker-compose.yml").open() as f:
        return yaml.safe_load(f)


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a KEY=VALUE list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def test_compose_has_every_service(compose):
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "proxy"} <= set(
        compose["services"])


def test_only_the_proxy_is_published_and_it_is_nginx_in_front_of_gunicorn(compose):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")  # the official image
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert {p.split(":")[-1] for p in proxy["ports"]} == {"80", "443"}
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_pass http://srm_web;" in conf and "server web:8000;" in conf


def test_the_proxy_sets_the_forwarding_headers_and_the_app_believes_only_it(compose):
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # replaced, not appended
    assert re.search(r"client_max_body_size \d+m;", conf)
    # The app believes forwarded headers from the proxy's fixed address only.
    proxy_address = compose["services"]["proxy"]["networks"]["edge"]["ipv4_address"]
    for name in APP_SERVICES:
        trusted = environment_of(compose["services"][name])["TRUSTED_PROXIES"].split(",")
        assert trusted == [proxy_address, "127.0.0.1"]
    assert "edge" in compose["services"]["web"]["networks"]
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    default = re.compile(r"\$\{\w+:-([^}]+)\}")
    assert ipaddress.ip_address(default.sub(r"\1", proxy_address)) in ipaddress.ip_network(
        default.sub(r"\1", subnet))


def test_the_app_connects_as_a_least_privilege_role_and_migrations_as_the_owner(compose):
    services = compose["services"]
    runtime = {name: environment_of(services[name])["DATABASE_URL"]
               for name in ("web", "worker", "beat")}
    assert len(set(runtime.values())) == 1
    app_url = runtime["web"]
    owner_url = environment_of(services["migrate"])["DATABASE_URL"]
    owner = environment_of(services["postgres"])["POSTGRES_USER"]
    assert app_url.startswith("postgres://srm_app:") and owner_url.startswith(f"postgres://{owner}:")
    migrate = services["migrate"]["command"]
    assert "grant_runtime_role srm_app" in (" ".join(migrate) if isinstance(migrate, list) else migrate)
    init = [v for v in services["postgres"]["volumes"] if "init-roles.sh" in v]
    assert init and init[0].split(":")[1].startswith("/docker-entrypoint-initdb.d/")
    assert (ROOT / "deploy/postgres/init-roles.sh").exists()


@pytest.mark.parametrize("variable", ["CELERY_BROKER_URL", "CACHE_URL", "SECRET_KEY"])
def test_app_services_share_configuration(compose, variable):
    values = {
        name: environment_of(compose["services"][name]).get(variable) for name in APP_SERVICES
    }
    assert all(values.values()), f"{variable} missing in some service: {values}"
    assert len(set(values.values())) == 1, f"{variable} differs between services: {values}"


def test_app_services_point_at_the_compose_servers(compose):
    env = environment_of(compose["services"]["web"])
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
    # Sign-in lockouts and API throttles are counted where every web worker sees them.
    assert env["CACHE_URL"].startswith("redis://redis:6379")
    assert env["DEBUG"] == "0"
    assert env["ALLOWED_HOSTS"]
    assert "EMAIL_HOST" in env


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat", "proxy"])
def test_healthchecks(compose, name):
    healthcheck = compose["services"][name].get("healthcheck")
    assert healthcheck and healthcheck.get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize(("name", "probe"), [
    ("web", "/healthz/ready"),
    ("worker", "manage.py healthcheck --worker"),
    ("beat", "manage.py healthcheck --beat"),
])
def test_the_app_services_are_checked_by_the_health_endpoints_and_commands(compose, name, probe):
    healthcheck = compose["services"][name]["healthcheck"]
    test = healthcheck["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    assert probe in " ".join(test[1:])
    # a probe that hangs is a failed probe: each has its own timeout, under the interval
    seconds = {key: int(str(healthcheck[key]).rstrip("s")) for key in ("interval", "timeout")}
    assert 0 < seconds["timeout"] < seconds["interval"]
    assert healthcheck.get("retries", 3) >= 2


def test_server_images(compose):
    assert compose["services"]["postgres"]["image"].startswith("postgres:16")
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_start_order(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    web = services["web"]["depends_on"]
    assert web["migrate"]["condition"] == "service_completed_successfully"
    assert web["redis"]["condition"] == "service_healthy"
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"].get("restart", "no") == "no"


def test_process_commands(compose):
    def command(name):
        cmd = compose["services"][name]["command"]
        return " ".join(cmd) if isinstance(cmd, list) else cmd

    assert "manage.py migrate" in command("migrate")
    assert command("web").startswith("gunicorn srm.wsgi")
    assert command("worker").startswith("celery -A srm worker")
    assert command("beat").startswith("celery -A srm beat")


def procfile(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(
        (part.strip() for part in line.split(":", 1))
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    )


def test_procfiles():
    prod = procfile("Procfile")
    assert prod["web"].startswith("gunicorn srm.wsgi")
    assert "WEB_CONCURRENCY" in prod["web"]
    assert prod["worker"].startswith("celery -A srm worker")
    assert prod["beat"].startswith("celery -A srm beat")

    # make run's processes: the same servers, on loopback, at make run's PORT, quiet.
    dev = procfile("Procfile.dev")
    assert "gunicorn srm.wsgi:application --bind 127.0.0.1:${PORT:-8000}" in dev["web"]
    assert "celery -A srm --quiet worker --loglevel warning" in dev["worker"]
    assert "celery -A srm --quiet beat --loglevel warning" in dev["beat"]


def test_makefile_targets():
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.MULTILINE))
    assert {"run", "test", "bench", "lint", "venv", "assets", "browsers", "clean"} <= targets


def test_vendored_assets_present():
    """`make test` runs `make assets` first; the product never loads these from a CDN."""
    missing = [f for f in VENDOR_FILES if not (ROOT / "static" / "vendor" / f).is_file()]
    assert not missing, f"static/vendor/ lacks {missing}: run `make assets`"


def test_templates_load_nothing_from_a_cdn():
    remote = re.compile(
        r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
        re.IGNORECASE,
    )
    folders = [ROOT / "templates"] + [
        folder / "templates"
        for folder in ROOT.iterdir()
        if folder.is_dir() and not folder.name.startswith(".") and folder.name != "node_modules"
    ]
    offenders = [
        str(path.relative_to(ROOT))
        for folder in folders
        for path in folder.rglob("*.html")
        if remote.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"templates load remote resources: {offenders}"


def _check_deploy(tmp_path, **extra) -> subprocess.CompletedProcess:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    secret_key = "".join(secrets.choice(alphabet) for _ in range(60))
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' conftest, never in production.
        if key not in {"HTTPS", "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS", "EMAIL_BACKEND",
                       "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        # pytest-django sets srm.settings_test in os.environ; production settings are checked.
        DJANGO_SETTINGS_MODULE="srm.settings",
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="srm.example.com",
        SRM_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL="postgres://srm@127.0.0.1:5432/srm",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    env.update(extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_passes(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_lockouts_would_be_counted_per_process(tmp_path):
    result = _check_deploy(tmp_path, CACHE_URL="locmemcache://srm")
    assert result.returncode != 0
    assert "srm.W001" in result.stdout + result.stderr
