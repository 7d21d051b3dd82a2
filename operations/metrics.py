"""Prometheus metrics (``/metrics``, docs/operations.md "Metrics").

- Per request (``MetricsMiddleware``): latency by view, method and status, and the database
  queries each request ran, by view. Under gunicorn each worker process writes its samples
  to ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py) and a scrape adds them up.
- Domain gauges, read when scraped (``register_gauges``): the outbox backlog and the Celery
  queue here, the delay scan, open risks and imports from the apps that own them. Each source
  is bounded (aggregates, the broker's timeout) and one that fails is reported by
  ``srm_metrics_source_up{source=…} 0`` instead of failing the scrape.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable

from django.db import connection
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from operations import broker, heartbeats, outbox

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "srm_http_request_duration_seconds", "Time to answer a request, by view.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
REQUEST_QUERIES = Histogram(
    "srm_http_request_db_queries", "Database queries one request ran, by view.", ["view"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500))
DB_QUERIES = Counter("srm_db_queries", "Database queries run by web requests, by view.",
                     ["view"])


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def view_label(request) -> str:
    """The view's URL name (or route): a bounded set of labels, never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unresolved"
    return match.view_name or match.route or "unnamed"


class MetricsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        view = view_label(request)
        REQUEST_SECONDS.labels(view, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
        REQUEST_QUERIES.labels(view).observe(counter.count)
        if counter.count:
            DB_QUERIES.labels(view).inc(counter.count)
        return response


# --- Domain gauges -----------------------------------------------------------------------------
GaugeSource = Callable[[], Iterable[Metric]]
SOURCES: dict[str, GaugeSource] = {}


def register_gauges(name: str, source: GaugeSource) -> None:
    """An app adds gauges read at scrape time (metric families, names starting ``srm_``)."""
    SOURCES[name] = source


def gauge(name: str, documentation: str, value: float | None = None, *,
          labels: list[str] | None = None,
          samples: Iterable[tuple[list[str], float]] = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, value=value, labels=labels)
    for label_values, sample in samples:
        family.add_metric(label_values, sample)
    return family


def _operations_gauges() -> Iterable[Metric]:
    pending, oldest = outbox.backlog()
    yield gauge("srm_outbox_pending", "Tasks in the outbox waiting to be published.", pending)
    yield gauge("srm_outbox_oldest_age_seconds",
                "Age of the oldest task waiting in the outbox (0 when empty).", oldest or 0.0)
    beats = heartbeats.last()
    yield gauge("srm_heartbeat_age_seconds",
                "Seconds since each background job last ran (worker heartbeat, dispatcher, …).",
                labels=["job"],
                samples=[([name], max(0.0, time.time() - beat.at.timestamp()))
                         for name, beat in sorted(beats.items())])


def _queue_gauges() -> Iterable[Metric]:
    length = broker.queue_length()
    if length is None:
        raise broker.BrokerUnavailable("the broker did not say how many messages wait")
    yield gauge("srm_celery_queue_length", "Messages waiting in the Celery queue.", length,
                labels=None)


register_gauges("operations", _operations_gauges)
register_gauges("celery", _queue_gauges)


class DomainCollector:
    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("srm_metrics_source_up",
                               "1 when the source of these gauges answered this scrape.",
                               labels=["source"])
        for name, source in SOURCES.items():
            try:
                families = list(source())
            except Exception as exc:  # noqa: BLE001 - one source down must not hide the rest
                logger.warning("Metrics: %s failed: %s", name, exc)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def exposition() -> bytes:
    """Everything in Prometheus' text format: the process's (or, under gunicorn, every
    worker's) request metrics, then the domain gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    domain = CollectorRegistry(auto_describe=False)
    domain.register(DomainCollector())
    return generate_latest(processes) + generate_latest(domain)
