"""/metrics: Prometheus' text format for the operator's bearer token only (no token set: no
endpoint), with request latency and database queries by view, and the gauges an operator
alerts on: the outbox backlog, the Celery queue, the delay scan, open risks, imports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import current_app
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accountability.choices import ImportStatus
from accountability.models import ImportJob
from accountability.tasks import flag_delays
from operations.models import OutboxTask

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


def _scrape(client: Client | None = None) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def _value(samples, name: str, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_without_a_token_configured_there_is_no_metrics_endpoint():
    with override_settings(SRM_METRICS_TOKEN=""):
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@override_settings(SRM_METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize("header", ["", "Bearer wrong", f"Token {TOKEN}x"])
def test_a_missing_or_wrong_token_is_401(header):
    response = Client().get("/metrics", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"srm_" not in response.content


@override_settings(SRM_METRICS_TOKEN=TOKEN)
def test_request_latency_and_database_queries_are_counted_by_view(org):
    client = Client()
    client.force_login(org.alice)
    before = _scrape()
    view = "portal:catalog"
    count = ("srm_http_request_duration_seconds_count",
             (("method", "GET"), ("status", "200"), ("view", view)))
    queries = ("srm_db_queries_total", (("view", view),))
    for _ in range(2):
        assert client.get("/portal/").status_code == 200
    after = _scrape()
    assert after[count] - before.get(count, 0) == 2
    assert after[queries] - before.get(queries, 0) >= 2  # each page reads the catalog
    assert _value(after, "srm_http_request_db_queries_count", view=view) >= 2
    # an unknown page is one label, not one per path
    client.get("/no-such-page-1/")
    client.get("/no-such-page-2/")
    assert _value(_scrape(), "srm_http_request_duration_seconds_count",
                  method="GET", status="404", view="unresolved") >= 2


@override_settings(SRM_METRICS_TOKEN=TOKEN)
def test_the_outbox_backlog_and_its_oldest_age():
    OutboxTask.objects.create(task="operations.tasks.heartbeat",
                              created_at=timezone.now() - timedelta(minutes=10))
    OutboxTask.objects.create(task="operations.tasks.heartbeat")
    samples = _scrape()
    assert _value(samples, "srm_outbox_pending") == 2
    assert 590 < _value(samples, "srm_outbox_oldest_age_seconds") < 700
    assert _value(samples, "srm_metrics_source_up", source="operations") == 1


@override_settings(SRM_METRICS_TOKEN=TOKEN)
def test_the_celery_queue_length():
    before = _value(_scrape(), "srm_celery_queue_length")
    current_app.send_task("operations.tasks.heartbeat")
    samples = _scrape()
    assert _value(samples, "srm_celery_queue_length") == before + 1
    assert _value(samples, "srm_metrics_source_up", source="celery") == 1


@override_settings(SRM_METRICS_TOKEN=TOKEN)
def test_a_broker_that_cannot_answer_is_a_source_down_not_a_failed_scrape(monkeypatch):
    monkeypatch.setattr("operations.broker.queue_length", lambda queue=None: None)
    samples = _scrape()
    assert _value(samples, "srm_metrics_source_up", source="celery") == 0
    assert ("srm_celery_queue_length", ()) not in samples
    assert _value(samples, "srm_outbox_pending") == 0  # the rest still answers


# /healthz/jobs runs each check in a thread of its own: it sees committed rows only.
@pytest.mark.django_db(transaction=True)
@override_settings(SRM_METRICS_TOKEN=TOKEN)
def test_the_delay_scan_and_open_risks_by_level(org, submit):
    submit(at=timezone.now() - timedelta(days=20))  # head approval long past due: level 3
    flag_delays()
    samples = _scrape()
    assert _value(samples, "srm_delay_scan_duration_seconds") > 0
    assert _value(samples, "srm_delay_scan_result", kind="raised") == 1
    assert _value(samples, "srm_delay_scan_result", kind="open") == 1
    assert [_value(samples, "srm_delay_risks_open", level=str(level)) for level in (1, 2, 3)] \
        == [0, 0, 1]
    health = Client().get("/healthz/jobs").json()["checks"]["delay-scan"]
    assert health["ok"] and health["raised"] == 1


@pytest.mark.django_db(transaction=True)
@override_settings(SRM_METRICS_TOKEN=TOKEN, SRM_IMPORT_STALE_SECONDS=300)
def test_imports_by_state_and_the_stale_ones(org):
    now = timezone.now()
    for status, heartbeat in [(ImportStatus.QUEUED, None), (ImportStatus.DONE, now),
                              (ImportStatus.DONE, now),
                              (ImportStatus.IMPORTING, now - timedelta(minutes=30))]:
        ImportJob.objects.create(item=org.item["laptop"], original_name="x.csv", status=status,
                                 heartbeat_at=heartbeat)
    samples = _scrape()
    assert _value(samples, "srm_imports", state="done") == 2
    assert _value(samples, "srm_imports", state="queued") == 1
    assert _value(samples, "srm_imports", state="failed") == 0
    assert _value(samples, "srm_imports_stale") == 1
    jobs = Client().get("/healthz/jobs").json()
    assert "imports" in jobs["failed"] and jobs["checks"]["imports"]["stale"] == 1
