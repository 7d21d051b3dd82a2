"""A signed-in request reads its session and its person in one statement, and a session still
ends at once for a leaver, a changed password, or a sign-out."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.identity.sessions import SessionStore
from governance.models import UserSession


def _person_reads(queries) -> list[str]:
    """Statements reading a person's account row (their password hash) on their own."""
    return [q["sql"] for q in queries if '"governance_user"."password"' in q["sql"]
            and "governance_usersession" not in q["sql"]]


def test_the_session_and_its_person_are_one_statement(client, org):
    client.force_login(org.alice)
    assert UserSession.objects.get().user == org.alice
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/portal/")
    assert response.status_code == 200 and "Alice" in response.content.decode()
    sessions = [q["sql"] for q in queries if "governance_usersession" in q["sql"]]
    assert len(sessions) == 1 and 'JOIN "governance_user"' in sessions[0]
    assert _person_reads(queries.captured_queries) == []


def test_a_leaver_is_signed_out_on_their_next_request(client, org):
    client.force_login(org.alice)
    assert client.get("/portal/").status_code == 200
    org.alice.is_active = False
    org.alice.save(update_fields=["is_active"])
    response = client.get("/portal/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_changed_password_ends_the_other_sessions(client, org):
    client.force_login(org.alice)
    assert client.get("/portal/").status_code == 200
    org.alice.set_password("a new and long passphrase")
    org.alice.save(update_fields=["password"])
    response = client.get("/portal/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not UserSession.objects.filter(user=org.alice).exists()


def test_signing_out_removes_the_session(client, org):
    client.force_login(org.alice)
    client.post("/accounts/logout/")
    assert not UserSession.objects.exists()
    assert client.get("/portal/").status_code == 302


def test_a_session_that_names_no_one_keeps_its_data_and_is_anonymous(client, settings, db):
    store = SessionStore()
    store["seen"] = "yes"
    store.save()
    assert UserSession.objects.get(session_key=store.session_key).user_id is None
    again = SessionStore(session_key=store.session_key)
    assert again["seen"] == "yes" and again.user_row is None
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    response = client.get("/portal/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_expired_session_is_not_read(client, org):
    client.force_login(org.alice)
    UserSession.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/portal/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
