"""The OpenAPI contract: committed, current, served, and honoured (fuzzed with Schemathesis)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import api_token

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def test_the_committed_schema_is_current(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert yaml.safe_load(fresh.read_text()) == yaml.safe_load(COMMITTED.read_text()), (
        "docs/openapi.yaml is out of date with the API: run `make openapi` and commit it."
    )


def test_every_operation_documents_the_error_body():
    schema = yaml.safe_load(COMMITTED.read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "429"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_enums_match_the_code():
    from approvals.choices import StepState
    from requests_app.choices import RequestState

    components = yaml.safe_load(COMMITTED.read_text())["components"]["schemas"]
    assert components["RequestStateEnum"]["enum"] == RequestState.values
    assert components["StepStateEnum"]["enum"] == StepState.values


def test_docs_are_served_without_a_cdn(db, admin_client):
    client = admin_client
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert client.get("/api/schema/?format=json").json()["info"]["title"] == "SRM API"


# --- Schemathesis: every operation fuzzed against the real application and database -----------


def _app(environ, start_response):
    return WSGIHandler()(environ, start_response)


# Loaded from the running application (no database needed to build it; opened for the load,
# since the schema is for signed-in callers otherwise).
with override_settings(SRM_API_DOCS_PUBLIC=True):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", _app)


@pytest.fixture
def _keep_test_connection():
    # Django closes "old" DB connections at each request's start and end; in a test the
    # connection holds the test's transaction, so keep it while fuzzing (Django's own test
    # client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


CASES: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_cases():
    yield
    if CASES:
        print(f"\nSchemathesis ran {sum(CASES.values())} cases over {len(CASES)} operations")


@schema.parametrize()
@hypothesis_settings(
    max_examples=int(os.environ.get("SRM_FUZZ_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_honours_its_schema(case, world, org, _keep_test_connection):
    # An ops leader sees every request, step and risk, so the fuzzer reaches real objects.
    token = api_token(org.olivia)
    CASES[case.operation.label] = CASES.get(case.operation.label, 0) + 1
    # Every check but "schema-valid data is accepted": valid input also depends on the data
    # (an item code must exist, a step must be an approval to approve it), which a schema
    # cannot say; those answers are 400/403/409 with the documented error body instead.
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        excluded_checks=[positive_data_acceptance],
    )


def test_api_workflows_honour_the_schema(world, org, _keep_test_connection):
    """Stateful: Schemathesis chains operations through the links it infers (submit a
    request, then read, cancel or act on its steps with the ids it got back)."""
    token = api_token(org.olivia)
    auth = {"Authorization": f"Token {token}"}
    calls = []

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            calls.append(case.operation.label)
            # ``headers``: the auth we added, so Schemathesis knows it was real auth, not ignored.
            case.validate_response(response, headers=auth,
                                   excluded_checks=[positive_data_acceptance],
                                   transport_kwargs=kwargs or None)

    Workflow.run(settings=hypothesis_settings(
        max_examples=int(os.environ.get("SRM_FUZZ_EXAMPLES", "10")) // 2, stateful_step_count=3,
        deadline=None, suppress_health_check=list(HealthCheck),
    ))
    print(f"\nSchemathesis stateful: {len(calls)} calls over {len(set(calls))} operations")
    assert len(set(calls)) > 1
