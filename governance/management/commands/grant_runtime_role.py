"""``python manage.py grant_runtime_role ROLE``: give the application's runtime database role
exactly what it needs, after every ``migrate``, connected as the owner of the tables.

The runtime role (the one web, worker and beat connect as) reads and writes the application's
tables but owns none of them, so it cannot ALTER them (no DISABLE TRIGGER), and on the
append-only tables it may only read and insert: no UPDATE, DELETE or TRUNCATE. It must not be
a superuser (``session_replication_role`` would switch triggers off). See
deploy/postgres/init-roles.sh and the README's production section.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

# Tables the runtime role may only read and append to: the audit trail and the
# cost-of-delay ledger (accountability's postings).
APPEND_ONLY_TABLES = ["governance_auditevent", "accountability_delayposting"]


class Command(BaseCommand):
    help = "Grant the runtime database role least privilege on the application's tables."

    def add_arguments(self, parser):
        parser.add_argument("role", help="The runtime role, e.g. srm_app (must exist).")
        parser.add_argument("--schema", default="public")

    def handle(self, *args, role: str, schema: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist on PostgreSQL only.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"Role {role} does not exist: create it first "
                                   "(deploy/postgres/init-roles.sh).")
            if found[0] or found[1]:
                raise CommandError(f"{role} is a superuser (or bypasses row security): the "
                                   "runtime role must be an ordinary role.")
            cursor.execute("SELECT current_user")
            owner = cursor.fetchone()[0]
            if owner == role:
                raise CommandError("Run this as the owner of the tables, not as the runtime role.")
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s",
                [schema, role])
            owned = [row[0] for row in cursor.fetchall()]
            if owned:
                raise CommandError(f"{role} owns {', '.join(owned[:5])}: the runtime role must "
                                   "own no table. Reassign them to the owner "
                                   f"(REASSIGN OWNED BY {role} TO {owner}).")
        names = {"role": sql.Identifier(role), "schema": sql.Identifier(schema)}
        statements = [sql.SQL(text).format(**names) for text in (
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        )]
        for table in APPEND_ONLY_TABLES:
            statements.append(sql.SQL("REVOKE UPDATE, DELETE ON {table} FROM {role}").format(
                table=sql.Identifier(schema, table), **names))
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"{role}: read and write on the tables of {schema}, owning none; "
                          f"append-only on {', '.join(APPEND_ONLY_TABLES)}.")
