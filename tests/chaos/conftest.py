"""Fixtures of the fault-injection tests (the helpers live in ``tests.chaos.stack``)."""

import pytest

from tests.chaos.stack import postgres_server_fixture, redis_server_fixture, stack_fixture

redis_server = pytest.fixture(redis_server_fixture, name="redis_server")
stack = pytest.fixture(stack_fixture, name="stack")
postgres_server = pytest.fixture(postgres_server_fixture, name="postgres_server")
