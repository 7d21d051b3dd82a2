"""Log lines an operator can search: each with its UTC timestamp, level, logger, the request
id (also in the response and in the tasks the request queued), the user and the request
reference where known; one access line per request with its duration; one configuration for
web, gunicorn, Celery worker and beat; error tracking only when SENTRY_DSN is set."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from unittest import mock

import pytest
from celery.signals import before_task_publish, setup_logging
from django.conf import settings
from django.db import transaction
from django.test import Client, RequestFactory
from django.utils.functional import SimpleLazyObject

from operations import context, outbox
from operations.logs import ContextFilter, JSONFormatter, TextFormatter, logging_config
from operations.tasks import heartbeat
from tests.factories import api_token

ROOT = settings.BASE_DIR


@pytest.fixture
def json_lines():
    """What the JSON formatter writes, as parsed lines (the production format)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_an_api_call_logs_one_access_line_with_its_id_user_reference_and_duration(
        org, submit, json_lines):
    request = submit()
    token = api_token(org.alice)
    response = Client().get(f"/api/v1/requests/{request.reference}/",
                            HTTP_AUTHORIZATION=f"Token {token}", HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code == 200 and response["X-Request-ID"] == "trace-42"
    access = [line for line in json_lines() if line["logger"] == "srm.access"]
    assert len(access) == 1
    line = access[0]
    assert line["timestamp"].endswith("+0000")  # UTC, whatever TIME_ZONE says
    assert line["level"] == "INFO"
    assert (line["request_id"], line["user_id"], line["reference"]) == (
        "trace-42", org.alice.pk, request.reference)
    assert (line["method"], line["path"], line["status"]) == (
        "GET", f"/api/v1/requests/{request.reference}/", 200)
    assert line["duration_ms"] > 0


@pytest.mark.django_db
def test_a_page_logs_the_signed_in_user_and_an_error_its_request_id(org, json_lines):
    client = Client(raise_request_exception=False)
    client.force_login(org.alice)
    with mock.patch("srm.views.capabilities", side_effect=RuntimeError("bug")):
        response = client.get("/")
    lines = json_lines()
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == response["X-Request-ID"]
    assert error["user_id"] == org.alice.pk
    assert "RuntimeError: bug" in error["exc_info"]


def test_a_log_line_never_makes_the_request_load_its_user():
    def load():
        raise AssertionError("a log line loaded the session's user")

    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(load)
    record = logging.LogRecord("srm.test", logging.INFO, __file__, 1, "x", (), None)
    token = context.request.set(request)
    try:
        ContextFilter().filter(record)
    finally:
        context.request.reset(token)
    assert record.user_id is None


def test_text_lines_are_readable_and_in_utc():
    record = logging.LogRecord("srm.test", logging.WARNING, __file__, 1, "hello %s", ("you",),
                               None)
    token = context.request_id.set("abc123")
    try:
        ContextFilter().filter(record)
    finally:
        context.request_id.reset(token)
    line = TextFormatter().format(record)
    assert line.endswith(" WARNING srm.test [abc123] hello you")
    assert line[:20].endswith("Z") and line[10] == "T"


# --- Celery tasks carry the request id ---------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_runs_with_that_requests_id():
    token = context.request_id.set("req-to-task")
    try:
        with mock.patch("operations.broker.current_app.send_task") as send, transaction.atomic():
            row = outbox.enqueue("operations.tasks.heartbeat")
    finally:
        context.request_id.reset(token)
    assert row.request_id == "req-to-task"
    headers = send.call_args.kwargs["headers"]
    assert headers == {context.TASK_HEADER: "req-to-task"}

    seen = []
    with mock.patch("operations.heartbeats.mark",
                    side_effect=lambda name: seen.append(context.request_id.get())):
        heartbeat.apply(headers=headers)
    assert seen == ["req-to-task"]
    assert context.request_id.get() == ""  # and it does not leak into the next task


def test_a_task_sent_directly_while_a_request_is_answered_carries_its_id():
    headers: dict = {}
    token = context.request_id.set("direct-1")
    try:
        before_task_publish.send(sender="operations.tasks.heartbeat", headers=headers, body=())
    finally:
        context.request_id.reset(token)
    assert headers[context.TASK_HEADER] == "direct-1"


# --- One configuration ----------------------------------------------------------------------

def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "srm.settings", **env})


def test_settings_gunicorn_and_celery_use_the_one_configuration():
    assert logging_config(fmt=settings.SRM_LOG_FORMAT,
                                              level=settings.LOGGING["root"]["level"],
                                              access_level="INFO") == settings.LOGGING
    gunicorn = _run("""
        import json, runpy
        print(json.dumps(runpy.run_path("gunicorn.conf.py")["logconfig_dict"]))""",
                    SRM_LOG_FORMAT="json")
    config = json.loads(gunicorn.stdout)
    assert config["formatters"] == settings.LOGGING["formatters"]
    assert config["handlers"]["console"]["formatter"] == "json"
    assert config["loggers"]["gunicorn.error"]["handlers"] == ["console"]
    assert any(receiver[1]() is not None for receiver in setup_logging.receivers)


def test_celery_workers_log_json_lines_in_utc():
    worker = _run("""
        import logging
        from srm.celery import app
        app.log.setup(loglevel="INFO")
        logging.getLogger("celery.worker").info("worker says hello")""",
                  SRM_LOG_FORMAT="json", TIME_ZONE="Europe/Berlin")
    line = json.loads(worker.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["level"], line["message"]) == (
        "celery.worker", "INFO", "worker says hello")
    assert line["timestamp"].endswith("+0000")


# --- Error tracking -------------------------------------------------------------------------

def test_without_sentry_dsn_the_sdk_is_not_even_loaded():
    check = _run("""
        import sys, django
        django.setup()
        print("sentry_sdk" in sys.modules)""", SENTRY_DSN="")
    assert check.stdout.strip() == "False", check.stderr


def test_with_sentry_dsn_an_unhandled_error_is_sent_with_its_request_id():
    check = _run("""
        import json, sys, django
        from django.test.utils import override_settings
        django.setup()
        import sentry_sdk
        from sentry_sdk.transport import Transport
        from operations.tracking import error_tracking_init
        assert sentry_sdk.get_client().is_active()  # settings turned it on

        events = []

        class Capture(Transport):
            def capture_envelope(self, envelope):
                events.extend(item.payload.json for item in envelope.items
                              if item.type == "event")

        error_tracking_init(dsn="http://public@127.0.0.1:9/1", transport=Capture)
        from django.test import Client
        with override_settings(ROOT_URLCONF="tests.operations.error_urls"):
            response = Client(raise_request_exception=False).get(
                "/api/test/broken/", HTTP_X_REQUEST_ID="sentry-7")
        sentry_sdk.flush()
        print(json.dumps([response.status_code, [e.get("tags", {}) for e in events]]))
        """, SENTRY_DSN="http://public@127.0.0.1:9/1", HTTPS="0")
    status, tags = json.loads(check.stdout.strip().splitlines()[-1])
    assert status == 500, check.stderr[-2000:]
    assert {"request_id": "sentry-7"}.items() <= tags[0].items(), tags
