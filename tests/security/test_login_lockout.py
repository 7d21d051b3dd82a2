"""Sign-ins and password resets are throttled (issue 16, item 1).

Found by the authorised attack on main: 30 wrong passwords for one account all answered 200
and the right one then signed in; 10 anonymous password-reset posts sent 10 e-mails."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from demo.organisation import DEMO_PASSWORD
from governance.choices import AuditVerb, LockoutScope
from governance.models import AuditEvent, LoginLockout
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.postgres

LOGIN = "/accounts/login/"
RESET = "/accounts/password_reset/"


def sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_a_clear_message(org, client):
    # Given alice's account, and someone guessing her password 30 times
    answers = [sign_in(client, "alice", f"guess-{n}").status_code for n in range(30)]

    # Then the first failures are the form again, and from the limit on a lockout (429)
    limit = settings.SRM_LOGIN_ACCOUNT_FAILURES
    assert answers[:limit - 1] == [200] * (limit - 1)
    assert set(answers[limit - 1:]) == {429}

    # When the right password comes next
    response = sign_in(client, "alice", DEMO_PASSWORD)

    # Then it is refused too, saying why and what to do, and nobody is signed in
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert "even with the right password" in page
    assert "ask an administrator to unlock it" in page
    assert not signed_in(client)


def test_a_lockout_is_one_audit_event_and_its_wait_doubles_with_each_further_failure(org, client):
    limit = settings.SRM_LOGIN_ACCOUNT_FAILURES
    for n in range(limit):
        sign_in(client, "alice", f"guess-{n}")

    # Then one lockout of alice's account is recorded with its audit event
    lockout = LoginLockout.objects.get(scope=LockoutScope.ACCOUNT)
    assert (lockout.username, lockout.user, lockout.failures) == ("alice", org.alice, limit)
    first_wait = (lockout.until - lockout.started_at).total_seconds()
    assert first_wait == pytest.approx(settings.SRM_LOGIN_LOCKOUT_SECONDS, abs=5)
    events = AuditEvent.objects.filter(verb=AuditVerb.LOGIN_LOCKED_OUT)
    assert events.count() == 1
    assert events.get().data["username"] == "alice"

    # When two more failures come during the lockout
    sign_in(client, "alice", "again")
    sign_in(client, "alice", "and again")

    # Then the same lockout lasts four times as long, still one audit event
    lockout.refresh_from_db()
    assert lockout.failures == limit + 2
    assert (lockout.until - lockout.started_at).total_seconds() == pytest.approx(
        4 * settings.SRM_LOGIN_LOCKOUT_SECONDS, abs=5)
    assert events.count() == 1
    assert LoginLockout.objects.filter(scope=LockoutScope.ACCOUNT).count() == 1


def test_an_administrator_unlocks_an_account_in_the_admin(org, client):
    for n in range(settings.SRM_LOGIN_ACCOUNT_FAILURES):
        sign_in(client, "alice", f"guess-{n}")
    lockout = LoginLockout.objects.get(scope=LockoutScope.ACCOUNT)
    assert sign_in(client, "alice", DEMO_PASSWORD).status_code == 429

    # When an administrator unlocks it from the admin's list of lockouts
    admin = Client()
    admin.force_login(org.admin)
    listing = admin.get("/admin/governance/loginlockout/")
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    done = admin.post("/admin/governance/loginlockout/", {
        "action": "unlock", "_selected_action": [lockout.pk]}, follow=True)
    assert "1 lockout(s) lifted" in done.content.decode()

    # Then the unlock is audited with who did it, and alice signs in
    event = AuditEvent.objects.get(verb=AuditVerb.LOGIN_UNLOCKED)
    assert event.actor == org.admin
    lockout.refresh_from_db()
    assert lockout.unlocked_by == org.admin and not lockout.is_in_force
    response = sign_in(client, "alice", DEMO_PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_an_address_trying_many_accounts_is_locked_for_every_account(org, client):
    # Given one address guessing once for each of many names (no account reaches its limit)
    limit = settings.SRM_LOGIN_ADDRESS_FAILURES
    for n in range(limit):
        sign_in(client, f"user{n}", "guess", ip="198.51.100.9")

    # Then that address is locked, even for bob's right password, and audited as an address
    assert sign_in(client, "bob", DEMO_PASSWORD, ip="198.51.100.9").status_code == 429
    lockout = LoginLockout.objects.get(scope=LockoutScope.ADDRESS)
    assert lockout.ip_address == "198.51.100.9"
    assert not LoginLockout.objects.filter(scope=LockoutScope.ACCOUNT).exists()

    # ...while bob signs in from anywhere else
    other = Client()
    assert sign_in(other, "bob", DEMO_PASSWORD, ip="192.0.2.44").status_code == 302


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(org, client):
    # Given a client that writes its own X-Forwarded-For on each guess
    limit = settings.SRM_LOGIN_ADDRESS_FAILURES
    for n in range(limit):
        client.post(LOGIN, {"username": f"user{n}", "password": "x"}, REMOTE_ADDR="198.51.100.9",
                    HTTP_X_FORWARDED_FOR=f"10.9.0.{n}")
    # Then the lockout is of its own address: the header was not believed
    assert LoginLockout.objects.get(scope=LockoutScope.ADDRESS).ip_address == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["127.0.0.0/8"])
def test_behind_a_trusted_proxy_the_client_address_is_counted_not_the_proxy(org, client):
    limit = settings.SRM_LOGIN_ADDRESS_FAILURES
    for n in range(limit):
        client.post(LOGIN, {"username": f"user{n}", "password": "x"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"10.9.0.1, 198.51.100.{n % 2}")
    # Two clients behind the proxy, half the failures each: neither (nor the proxy) is locked
    assert not LoginLockout.objects.exists()
    assert sign_in(client, "bob", DEMO_PASSWORD, ip="127.0.0.1").status_code == 302


def test_a_successful_sign_in_forgets_the_accounts_failures(org, client):
    limit = settings.SRM_LOGIN_ACCOUNT_FAILURES
    for n in range(limit - 1):
        sign_in(client, "alice", f"guess-{n}")
    assert sign_in(client, "alice", DEMO_PASSWORD).status_code == 302
    client.logout()
    for n in range(limit - 1):
        assert sign_in(client, "alice", f"typo-{n}").status_code == 200
    assert not LoginLockout.objects.exists()


def test_password_reset_mails_are_limited_per_e_mail_address_and_per_client_address(org, client):
    # When ten password resets are asked for alice's address
    answers = [client.post(RESET, {"email": "alice@example.com"}, REMOTE_ADDR="203.0.113.5")
               for _ in range(10)]

    # Then every answer looks the same (it never tells whether an account exists)...
    assert {a.status_code for a in answers} == {302}
    # ...but only the first few send a mail
    assert len(mail.outbox) == settings.SRM_PASSWORD_RESET_PER_EMAIL

    # When the same client goes on asking for other addresses
    other = client.post(RESET, {"email": "bob@example.com"}, REMOTE_ADDR="203.0.113.5")

    # Then past the per-client limit it is told to wait, and nothing more is sent
    assert other.status_code == 429
    assert "Too many password reset requests" in other.content.decode()
    assert len(mail.outbox) == settings.SRM_PASSWORD_RESET_PER_EMAIL
    # ...while another client still gets bob his mail
    assert client.post(RESET, {"email": "bob@example.com"},
                       REMOTE_ADDR="192.0.2.1").status_code == 302
    assert mail.outbox[-1].to == ["bob@example.com"]


@pytest.mark.redis
def test_the_counts_live_in_redis_when_cache_url_names_it(org, client):
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": REDIS_URL, "KEY_PREFIX": "srm-test-lockout"}}
    with override_settings(CACHES=redis_cache):
        cache.clear()
        try:
            for n in range(settings.SRM_LOGIN_ACCOUNT_FAILURES):
                sign_in(client, "alice", f"guess-{n}")
            # A new client (another browser, another worker's view of the same cache)
            assert sign_in(Client(), "alice", DEMO_PASSWORD).status_code == 429
        finally:
            cache.clear()


def test_the_api_throttles_are_sensible_by_default():
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def per_hour(rate: str) -> float:
        count, period = rate.split("/")
        return int(count) * 3600 / seconds[period[0]]

    per_hour = {"user": per_hour(settings.SRM_API_THROTTLE_USER),
                "anon": per_hour(settings.SRM_API_THROTTLE_ANON)}
    assert per_hour["user"] <= 10_000
    assert per_hour["anon"] <= 3_600


def test_a_server_without_client_addresses_still_locks_accounts(org, client):
    # Given a server behind a unix socket, where REMOTE_ADDR is no address
    limit = settings.SRM_LOGIN_ACCOUNT_FAILURES
    answers = [sign_in(client, "alice", f"guess-{n}", ip="unix-socket").status_code
               for n in range(limit)]
    # Then the account still locks (no 500 on recording the lockout without an address)
    assert answers[-1] == 429
    assert LoginLockout.objects.get().ip_address is None
