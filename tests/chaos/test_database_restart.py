"""PostgreSQL restarted or briefly down: the site does not need a restart of its own. The
request after a restart succeeds (the web workers' persistent connections are checked and
replaced, not reused dead), and while the server is down the site answers 503 with
Retry-After, /healthz/ready names the database, and both come back by themselves."""

from __future__ import annotations

import time

import pytest

from tests.chaos.stack import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_site_rides_out_a_postgresql_restart_and_an_outage(
        org, submit, stack, redis_server, postgres_server):
    # Given the site on a PostgreSQL of its own, with persistent connections (as production)
    request = submit()
    postgres_server.copy_from_test_database()
    stack.env.update(DATABASE_URL=postgres_server.url, CONN_MAX_AGE="60",
                     SRM_DB_CONNECT_TIMEOUT="2")
    done = stack.run("from governance.models import User\n"
                     "from governance.services.tokens import api_token_create\n"
                     "alice = User.objects.get(username='alice')\n"
                     "print(api_token_create(user=alice, name='chaos', actor=None)[1])")
    assert done.returncode == 0, done.stderr
    token = done.stdout.split()[-1]
    stack.start_web(workers=1, threads=2)
    me = f"/api/v1/requests/{request.reference}/"
    # every thread holds a connection now
    assert all(stack.request("GET", me, token=token)[0] == 200 for _ in range(6))
    assert stack.get("/healthz/ready")[0] == 200

    # When PostgreSQL restarts, then the very next requests succeed
    postgres_server.restart()
    answers = [stack.request("GET", me, token=token)[0] for _ in range(6)]
    assert answers == [200] * 6, answers
    assert stack.get("/healthz/ready")[0] == 200

    # When it is down: an honest 503 with Retry-After, and readiness names the database, fast
    postgres_server.stop()
    status, body, seconds = stack.request("GET", me, token=token)
    assert status == 503 and body["code"] == "unavailable", body
    assert body["request_id"] and seconds < 5
    status, body, seconds = stack.request("GET", "/healthz/ready")
    assert status == 503 and "database" in body["failed"], body
    assert seconds < 5
    assert stack.get("/healthz/live")[0] == 200  # the process itself is fine: no restart

    # When it is back, without touching the site: ready again, and requests succeed
    started = time.monotonic()
    postgres_server.start()
    wait_for(lambda: stack.get("/healthz/ready")[0] == 200, timeout=30, what="ready again")
    assert time.monotonic() - started < 30
    answers = [stack.request("GET", me, token=token)[0] for _ in range(6)]
    assert answers == [200] * 6, answers
