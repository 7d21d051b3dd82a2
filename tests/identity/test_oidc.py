"""Single sign-on with OpenID Connect: what SRM checks before it signs anyone in (PKCE, state,
nonce, the ID token's signature, issuer and audience, against the real provider of
tests/identity/oidc_provider.mjs), what it does with no provider configured, and the rule for
local passwords."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.messages import get_messages
from django.core.exceptions import SuspiciousOperation
from django.test import override_settings

from governance.choices import AuditVerb, IdentitySource
from governance.errors import NotAllowed
from governance.identity.oidc import ProviderBackend, person_from_claims
from governance.models import AuditEvent, User
from governance.services.identity import DirectoryPerson, user_sync_from_directory
from governance.services.org import user_deactivate
from tests.identity.conftest import CLIENT_ID, PROVIDER_NAME, free_port


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Nothing configured: nothing changes ------------------------------------------------------
def test_without_a_provider_the_sign_in_page_offers_passwords_only(org, client):
    page = client.get("/accounts/login/")
    assert b"Sign in with" not in page.content
    assert b'name="password"' in page.content
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    # ...and the demo logins work as ever
    response = client.post("/accounts/login/", {"username": "alice", "password": "demo"})
    assert response.status_code == 302
    assert client.get("/portal/requests/").status_code == 200


# --- The sign-in's start: PKCE, state and nonce -------------------------------------------------
def test_the_sign_in_goes_to_the_provider_with_pkce_state_and_nonce(org, client, oidc_settings):
    page = client.get("/accounts/login/?next=/portal/")
    assert f"Sign in with {PROVIDER_NAME}".encode() in page.content

    response = client.get("/accounts/oidc/authenticate/?next=/portal/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == oidc_settings.issuer
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    kept = client.session["oidc_states"][query["state"]]
    assert kept["nonce"] == query["nonce"] and len(kept["code_verifier"]) >= 43


def test_a_callback_with_a_forged_state_signs_nobody_in(org, client, oidc_settings):
    client.get("/accounts/oidc/authenticate/")  # a sign-in started: a state in the session

    response = client.get("/accounts/oidc/callback/?code=stolen-code&state=forged-state")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert any("could not be completed" in m for m in _messages(response))
    assert "_auth_user_id" not in client.session


def test_a_callback_without_a_started_sign_in_signs_nobody_in(org, client, oidc_settings):
    response = client.get("/accounts/oidc/callback/?code=stolen-code&state=any")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_a_provider_that_does_not_answer_sends_the_person_back_with_a_reason(org, client,
                                                                              oidc_settings):
    with override_settings(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}", OIDC_TIMEOUT=2):
        started = time.monotonic()
        response = client.get("/accounts/oidc/authenticate/")

    assert time.monotonic() - started < 3
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert any("does not answer" in m for m in _messages(response))


# --- The ID token: signature, issuer, audience, nonce ----------------------------------------
def _id_token(provider, *, key=None, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "alice", "nonce": "n-123",
              "iat": now, "exp": now + 300, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key or provider.key.pem, algorithm="RS256",
                      headers={"kid": provider.key.kid})


def test_an_id_token_of_this_sign_in_is_accepted(oidc_settings):
    payload = ProviderBackend().verify_token(_id_token(oidc_settings), nonce="n-123")
    assert payload["sub"] == "alice"


@pytest.mark.parametrize(("case", "overrides", "refused_for"), [
    ("wrong nonce", {"nonce": "n-from-another-sign-in"}, "nonce"),
    ("no nonce", {"nonce": None}, "nonce"),
    ("wrong issuer", {"iss": "http://127.0.0.1:1/evil"}, "issuer"),
    ("wrong audience", {"aud": "another-client"}, "audience"),
    ("another party", {"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "azp"),
    ("expired", {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "expired"),
])
def test_an_id_token_not_made_for_this_sign_in_is_refused(oidc_settings, case, overrides,
                                                         refused_for):
    with pytest.raises(SuspiciousOperation, match=f"(?i){refused_for}"):
        ProviderBackend().verify_token(_id_token(oidc_settings, **overrides), nonce="n-123")


def test_an_id_token_signed_with_another_key_is_refused(oidc_settings):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation, match="(?i)signature"):
        ProviderBackend().verify_token(_id_token(oidc_settings, key=forger), nonce="n-123")


def test_an_unsigned_id_token_is_refused(oidc_settings):
    token = jwt.encode({"iss": oidc_settings.issuer, "aud": CLIENT_ID, "sub": "alice",
                        "nonce": "n-123"}, None, algorithm="none")
    with pytest.raises(SuspiciousOperation):
        ProviderBackend().verify_token(token, nonce="n-123")


# --- From claims to a person ---------------------------------------------------------------
@override_settings(OIDC_CLAIM_GROUPS="groups", OIDC_GROUP_OPS_LEADER="srm-ops",
                   OIDC_GROUP_APPROVER="srm-approvers", OIDC_GROUP_AGENT="srm-agents")
def test_claims_map_to_a_person_through_the_settings():
    person = person_from_claims({
        "sub": "00u1", "preferred_username": "alice", "email": "a@example.com",
        "given_name": "Alice", "family_name": "Adams", "department": "MKT",
        "manager": "hank", "groups": ["srm-ops", "srm-approvers"]})
    assert person == DirectoryPerson(
        source=IdentitySource.OIDC, external_id="00u1", username="alice",
        email="a@example.com", first_name="Alice", last_name="Adams", department_code="MKT",
        manager="hank", ops_leader=True, role="approver")
    # A claim the provider does not send says nothing: SRM keeps what it has
    sparse = person_from_claims({"sub": "00u2", "preferred_username": "bob"})
    assert (sparse.email, sparse.department_code, sparse.ops_leader, sparse.role) == (
        None, None, None, None)


def test_a_local_administrator_is_never_taken_over_by_a_directory_account(org):
    User.objects.create_superuser("root", "root@example.com", "break-glass-password")
    with pytest.raises(NotAllowed):
        user_sync_from_directory(person=DirectoryPerson(
            source=IdentitySource.OIDC, external_id="x", username="root"))
    assert User.objects.get(username="root").source == IdentitySource.LOCAL


def test_an_unknown_department_code_keeps_the_department(org):
    user = user_sync_from_directory(person=DirectoryPerson(
        source=IdentitySource.OIDC, external_id="bob", username="bob", department_code="NOPE"))
    assert user.department == org.dept["MKT"]


def test_a_sign_in_that_changes_nothing_writes_no_audit_event(org):
    person = DirectoryPerson(source=IdentitySource.OIDC, external_id="bob", username="bob",
                             email="bob@example.com", department_code="MKT")
    user_sync_from_directory(person=person)
    events = AuditEvent.objects.count()
    user_sync_from_directory(person=person)
    assert AuditEvent.objects.count() == events
    assert AuditEvent.objects.filter(verb=AuditVerb.USER_PROVISIONED).count() == 1


@override_settings(AUTHENTICATION_BACKENDS=["governance.identity.oidc.ProviderBackend"])
def test_a_leaver_stays_signed_out_and_deactivated(org, client):
    # Given bob, signed in through the provider
    client.force_login(org.bob, backend="governance.identity.oidc.ProviderBackend")
    assert client.get("/portal/requests/").status_code == 200

    # When he leaves the organisation
    user_deactivate(actor=None, user=org.bob)

    # Then his session no longer works, and a sign-in does not bring him back
    assert client.get("/portal/requests/").status_code == 302
    user = user_sync_from_directory(person=DirectoryPerson(
        source=IdentitySource.OIDC, external_id="bob", username="bob"))
    assert not user.is_active


# --- Local passwords -------------------------------------------------------------------------
@override_settings(SRM_LOCAL_PASSWORDS=False)
def test_with_local_passwords_off_only_superusers_sign_in_with_one(org, client):
    User.objects.create_superuser("root", "root@example.com", "break-glass-password")
    page = client.get("/accounts/login/")
    assert b"Administrator sign-in with a local password" in page.content

    refused = client.post("/accounts/login/", {"username": "alice", "password": "demo"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session

    admitted = client.post("/accounts/login/", {"username": "root",
                                                "password": "break-glass-password"})
    assert admitted.status_code == 302 and client.session["_auth_user_id"]
