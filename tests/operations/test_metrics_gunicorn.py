"""Under gunicorn each worker process counts its own requests; a scrape, whichever worker
answers it, reports the sum over all of them (prometheus_client's multiprocess mode, set up
by gunicorn.conf.py)."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.chaos.stack import redis_server_fixture, stack_fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

redis_server = pytest.fixture(redis_server_fixture, name="redis_server")
stack = pytest.fixture(stack_fixture, name="stack")

TOKEN = "gunicorn-metrics-token"


def _live_count(stack) -> float:
    request = urllib.request.Request(stack.base + "/metrics",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "srm_http_request_duration_seconds_count"
               and sample.labels.get("view") == "healthz-live")


def test_every_scrape_counts_the_requests_of_every_worker(stack, redis_server):
    stack.env["SRM_METRICS_TOKEN"] = TOKEN
    stack.start_web(workers=3, threads=2)
    before = _live_count(stack)
    for _ in range(30):
        assert stack.get("/healthz/live")[0] == 200
    # Scrapes land on different workers: each must see all 30.
    counts = {_live_count(stack) - before for _ in range(6)}
    assert counts == {30}
