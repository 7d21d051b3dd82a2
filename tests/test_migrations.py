"""Migrations: every model change has one, and a database of the release before
accountability became an app of its own migrates forward with nothing lost."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accountability.models import ChangePlan, DelayRisk, Notification
from accountability.services.risks import flag_delays
from governance.models import ApiToken, AuditEvent, UserSession
from tests.factories import make_plan, make_workflow

# The migration state of the release before the move (main at 71d750a): governance's last
# migration, no accountability app.
BEFORE_THE_MOVE = [("governance", "0009_open_work_figures"), ("accountability", None)]
MOVED_TABLES = [
    "governance_changeplan", "governance_changeplan_items", "governance_delayaccrual",
    "governance_delayrisk", "governance_figuresstamp", "governance_flowfigures",
    "governance_handofffigures", "governance_importjob", "governance_itemtimefigures",
    "governance_legacyworkflow", "governance_notification", "governance_openworkfigures",
    "governance_quarterfigures", "governance_weekfigures",
]


def test_every_model_change_has_a_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def _migrate(targets=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return executor


def _counts(tables=MOVED_TABLES) -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in tables + ["governance_auditevent", "django_admin_log"]:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_release_before_the_move_migrates_forward_intact(org, submit):
    # Given the demo organisation with requests, delay risks (and their audit events),
    # notifications, a change plan and an admin log entry
    for days in (3, 5, 9):
        submit(at=timezone.now() - timedelta(days=days))
    assert flag_delays().raised == 3
    plan = make_plan(org)
    make_workflow(org, plan)
    LogEntry.objects.log_actions(user_id=org.olivia.pk, queryset=[plan], action_flag=CHANGE,
                                 change_message="Edited in the admin")

    # ... as the release before the move had them: its migrations, its content types
    executor = _migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(BEFORE_THE_MOVE[:1]).apps
    old_risk_type = ContentType.objects.get(app_label="governance", model="delayrisk")
    # (Django keeps content types of models that came later, such as the ledger's postings,
    # the notification preferences, the mail that came in on the reply address, the
    # record of used e-mail action links and the budget figures.)
    assert not ContentType.objects.filter(app_label="accountability").exclude(
        model__in=["delayposting", "notificationpreference", "inboundmessage", "budget",
                   "commitmentposting", "emailactionuse", "budgetfigures",
                   "commitmentitemfigures", "itemactualfigures"]).exists()
    risk_events = AuditEvent.objects.filter(content_type=old_risk_type)
    assert risk_events.count() >= 3
    # ... including rows written there by that release's models
    old.get_model("governance", "Notification").objects.create(
        recipient_id=org.hank.pk, kind="risk_raised", subject="Written before the move",
        body="", dedupe_key="before-the-move")
    before = _counts()
    event_links = dict(risk_events.values_list("pk", "object_id"))
    plan_type_id = ContentType.objects.get(app_label="governance", model="changeplan").pk

    # When it migrates forward
    _migrate()

    # Then no row was lost or copied, and every link still points at the same rows (each
    # quarterly accrual became one opening posting of the cost-of-delay ledger)
    ledger = [t if t != "governance_delayaccrual" else "accountability_delayposting"
              for t in MOVED_TABLES]
    after = _counts(ledger)
    assert after.pop("accountability_delayposting") == before.pop("governance_delayaccrual")
    assert after == before
    risk_type = ContentType.objects.get_for_model(DelayRisk)
    assert (risk_type.pk, risk_type.app_label) == (old_risk_type.pk, "accountability")
    assert dict(AuditEvent.objects.filter(content_type=risk_type)
                .values_list("pk", "object_id")) == event_links
    for event in AuditEvent.objects.filter(content_type=risk_type):
        assert isinstance(event.content_type.get_object_for_this_type(pk=event.object_id),
                          DelayRisk)
    entry = LogEntry.objects.get(change_message="Edited in the admin")
    assert entry.content_type_id == plan_type_id
    assert entry.get_edited_object() == ChangePlan.objects.get(pk=plan.pk)
    assert Permission.objects.filter(content_type=risk_type, codename="view_delayrisk").exists()
    assert not ContentType.objects.filter(app_label="governance", model__in=[
        "delayrisk", "notification", "changeplan"]).exists()
    assert Notification.objects.filter(dedupe_key="before-the-move").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tokens_of_the_previous_release_are_hashed_and_keep_working(org, client):
    # Given a database of the release before, with a DRF token in plain text
    executor = MigrationExecutor(connection)
    executor.migrate([("governance", "0013_login_lockouts")])
    legacy = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
                       "created timestamp with time zone NOT NULL, user_id bigint NOT NULL)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)",
                       [legacy, org.alice.pk])

    # When it migrates
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # Then the key still works, as a hashed token that expires, and no plain text is left
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {legacy}")
    assert me.json()["username"] == "alice"
    token = ApiToken.objects.get(user=org.alice)
    assert token.name == "Migrated token" and token.digest != legacy
    assert token.expires_at > timezone.now() + timedelta(days=89)
    assert "authtoken_token" not in connection.introspection.table_names()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sessions_open_before_the_change_stay_signed_in(org, client):
    # Given a session in Django's own table, as the release before wrote it
    _migrate([("governance", "0023_field_labels_translated")])
    old = DjangoSessionStore()
    old.update({SESSION_KEY: str(org.alice.pk),
                BACKEND_SESSION_KEY: "governance.identity.passwords.LocalPasswordBackend",
                HASH_SESSION_KEY: org.alice.get_session_auth_hash()})
    old.create()

    # When it migrates, the session is still signed in, its row naming its person
    _migrate()
    client.cookies["sessionid"] = old.session_key
    page = client.get("/portal/")
    assert page.status_code == 200 and "Alice" in page.content.decode()
    assert UserSession.objects.get(session_key=old.session_key).user == org.alice
