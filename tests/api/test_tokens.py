"""API tokens like a bank's (issue 16, item 3).

Found by the authorised attack on main: DRF's tokens were stored in plain text, printed again
by ``create_api_token``, listed in the admin, never expired and survived a password change."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from demo.organisation import DEMO_PASSWORD
from governance.choices import AuditVerb, TokenRevokedBecause
from governance.models import ApiToken, AuditEvent, User
from tests.factories import api_token

pytestmark = pytest.mark.postgres


def _command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def _me(client, secret: str):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}")


def test_the_database_keeps_a_keyed_hash_never_the_secret(org, client):
    secret = api_token(org.alice, name="Warehouse export")
    row = ApiToken.objects.values().get(user=org.alice)
    assert secret not in str(row)
    assert row["digest"] != secret and len(row["digest"]) == 64
    assert row["prefix"] == secret[:8] and len(secret) > 40
    # ...and yet the secret works
    assert _me(client, secret).json()["username"] == "alice"


def test_create_api_token_prints_a_new_secret_once_and_never_again(org, client):
    first, note = _command("alice", "--name", "Nightly export")
    assert "shown this once" in note
    second, _ = _command("alice")
    assert first != second
    assert first not in str(list(ApiToken.objects.values()))
    # Both work until revoked; each has its name
    assert _me(client, first).status_code == _me(client, second).status_code == 200
    assert set(ApiToken.objects.values_list("name", flat=True)) == {
        "Nightly export", "Created on the command line"}


def test_rotating_revokes_the_other_tokens(org, client):
    old, _ = _command("alice")
    new, _ = _command("alice", "--rotate")
    assert _me(client, old).status_code == 401
    assert _me(client, new).status_code == 200
    assert ApiToken.objects.get(revoked_at__isnull=False).revoked_reason == \
        TokenRevokedBecause.ROTATED


def test_unknown_or_inactive_users_are_a_clear_error(org):
    with pytest.raises(CommandError, match="No user called “nobody”"):
        _command("nobody")
    bob = User.objects.get(pk=org.bob.pk)
    bob.is_active = False
    bob.save()
    with pytest.raises(CommandError, match="inactive"):
        _command("bob")


def test_a_token_expires_after_90_days_by_default(org, client):
    secret = api_token(org.alice)
    token = ApiToken.objects.get(user=org.alice)
    assert settings.SRM_API_TOKEN_DAYS == 90
    assert token.expires_at - token.created_at == pytest.approx(timedelta(days=90),
                                                                abs=timedelta(seconds=5))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _me(client, secret)
    assert response.status_code == 401
    assert "expired or revoked" in response.json()["message"]


def test_the_last_use_is_recorded(org, client):
    secret = api_token(org.alice)
    assert ApiToken.objects.get().last_used_at is None
    _me(client, secret)
    assert ApiToken.objects.get().last_used_at is not None


def test_a_password_change_revokes_every_token_of_the_person(org, client):
    secrets = [api_token(org.alice, name=f"t{n}") for n in range(2)]
    other = api_token(org.bob)
    # When alice changes her password on the page
    page = Client()
    page.force_login(org.alice)
    response = page.post("/accounts/password_change/", {
        "old_password": DEMO_PASSWORD, "new_password1": "a much longer passphrase 42",
        "new_password2": "a much longer passphrase 42"})
    assert response.status_code == 302
    # Then none of her tokens works any more, each revoked with the reason and audited
    assert [_me(client, s).status_code for s in secrets] == [401, 401]
    assert set(ApiToken.objects.filter(user=org.alice).values_list("revoked_reason", flat=True)
               ) == {TokenRevokedBecause.PASSWORD_CHANGED}
    assert AuditEvent.objects.filter(verb=AuditVerb.TOKEN_REVOKED).count() == 2
    # ...while bob's still does
    assert _me(client, other).status_code == 200


def test_deactivating_a_person_revokes_their_tokens(org, client):
    secret = api_token(org.alice)
    alice = User.objects.get(pk=org.alice.pk)
    alice.is_active = False
    alice.save()
    assert ApiToken.objects.get().revoked_reason == TokenRevokedBecause.DEACTIVATED
    alice.is_active = True
    alice.save()
    assert _me(client, secret).status_code == 401


def test_the_owner_creates_lists_and_revokes_tokens_on_the_api_tokens_page(org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.alice)
    page = browser.get("/accounts/tokens/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    csrf = page.cookies["csrftoken"].value

    # When alice creates a token
    created = browser.post("/accounts/tokens/", {"name": "Finance sync", "days": "30",
                                                 "csrfmiddlewaretoken": csrf})

    # Then its secret is on that answer only, and it works
    assert created.status_code == 201
    html = created.content.decode()
    secret = html.split('<code id="token-secret">')[1].split("</code>")[0]
    assert secret.startswith("srm_") and "shown this once" in html
    assert _me(Client(), secret).status_code == 200
    listing = browser.get("/accounts/tokens/").content.decode()
    assert "Finance sync" in listing and secret not in listing and secret[:8] in listing
    token = ApiToken.objects.get(user=org.alice)
    assert (token.expires_at - token.created_at).days == 30

    # A revoke without the CSRF token is refused
    assert browser.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 403
    # ...with it, the token stops working
    done = browser.post(f"/accounts/tokens/{token.pk}/revoke/", {"csrfmiddlewaretoken": csrf})
    assert done.status_code == 302
    assert _me(Client(), secret).status_code == 401
    assert "revoked" in browser.get("/accounts/tokens/").content.decode()


def test_nobody_sees_or_revokes_someone_elses_token(org):
    api_token(org.alice, name="Alice's sync")
    token = ApiToken.objects.get()
    bob = Client()
    bob.force_login(org.bob)
    assert "Alice&#x27;s sync" not in bob.get("/accounts/tokens/").content.decode()
    assert bob.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_bad_input_on_the_page_is_a_clear_400(org):
    browser = Client()
    browser.force_login(org.alice)
    response = browser.post("/accounts/tokens/", {"name": "", "days": "9999"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_account_menu_links_to_the_api_tokens_page(org):
    browser = Client()
    browser.force_login(org.alice)
    assert 'href="/accounts/tokens/">API tokens</a>' in browser.get("/portal/").content.decode()


def test_administrators_list_and_revoke_tokens_without_seeing_a_secret(org, client):
    secret = api_token(org.alice, name="Warehouse")
    token = ApiToken.objects.get()
    admin = Client()
    admin.force_login(org.admin)
    listing = admin.get("/admin/governance/apitoken/").content.decode()
    assert "Warehouse" in listing and secret not in listing and token.digest not in listing
    change = admin.get(f"/admin/governance/apitoken/{token.pk}/change/").content.decode()
    assert secret not in change and token.digest not in change
    admin.post("/admin/governance/apitoken/", {"action": "revoke",
                                                "_selected_action": [token.pk]})
    assert _me(client, secret).status_code == 401
    event = AuditEvent.objects.get(verb=AuditVerb.TOKEN_REVOKED)
    assert event.actor == org.admin and event.data["because"] == "administrator"


def test_session_users_can_read_the_api(org, client):
    client.force_login(org.bob)
    assert client.get("/api/v1/me/").json()["username"] == "bob"
