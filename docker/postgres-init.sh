#!/bin/sh
# Runs once, when the PostgreSQL volume is created: the app's own login role, which owns nothing. duo-desk's
# migrations run as the owner (MIGRATION_DATABASE_URL) and grant this role only what the app needs.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$DUODESK_APP_PASSWORD" <<'SQL'
create role duodesk_app login password :'app_password';
SQL
