#!/usr/bin/env bash
# Creates the application's runtime database role when the PostgreSQL container initialises
# its data directory (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
#
# Two roles, two jobs:
#   $POSTGRES_USER (srm)   owns the database and every table; only the one-shot `migrate`
#                          service connects as it (migrations, then `grant_runtime_role`).
#   $SRM_APP_DB_USER (srm_app)
#                          what web, worker and beat connect as: reads and writes the tables,
#                          owns none of them, is no superuser; on the audit trail it may only
#                          read and insert (no UPDATE, DELETE, TRUNCATE, ALTER … DISABLE
#                          TRIGGER or session_replication_role).
#
# The grants on the tables are made by `python manage.py grant_runtime_role srm_app` after
# each migration (tables created later are covered the next time it runs).
set -euo pipefail

: "${SRM_APP_DB_USER:=srm_app}"
: "${SRM_APP_DB_PASSWORD:?set SRM_APP_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_user="$SRM_APP_DB_USER" -v app_password="$SRM_APP_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS PASSWORD %L', :'app_user', :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'app_user') \gexec
-- Nobody but the owner creates objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
